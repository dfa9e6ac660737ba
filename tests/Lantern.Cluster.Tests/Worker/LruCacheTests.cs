using Lantern.Worker.Inference;

namespace Lantern.Cluster.Tests.Worker;

public sealed class LruCacheTests
{
    private sealed class Session(long bytes) : IDisposable
    {
        public long Bytes { get; } = bytes;
        public bool Disposed { get; private set; }
        public void Dispose() => Disposed = true;
    }

    [Fact]
    public void Sessions_over_the_memory_budget_are_evicted_least_recently_used_first_and_disposed()
    {
        var cache = new LruCache<string, Session>(budget: 100, session => session.Bytes);
        var a = new Session(40);
        var b = new Session(40);
        cache.Add("a", a);
        cache.Add("b", b);
        Assert.True(cache.TryGet("a", out _)); // a is now the most recent

        cache.Add("c", new Session(40));

        Assert.False(cache.TryGet("b", out _));
        Assert.True(b.Disposed);
        Assert.True(cache.TryGet("a", out _));
        Assert.False(a.Disposed);
    }

    [Fact]
    public void A_single_model_larger_than_the_budget_is_still_kept()
    {
        var cache = new LruCache<string, Session>(budget: 10, session => session.Bytes);
        cache.Add("huge", new Session(1000));
        Assert.True(cache.TryGet("huge", out var kept));
        Assert.False(kept.Disposed);
    }
}
