using Lantern.Imaging;

namespace Lantern.Cluster.Tests.ModelsAndImaging;

/// <summary>The decode budget shared by concurrent uploads and jobs: taken before decoding, given back after.</summary>
public sealed class DecodeBudgetTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_decode_that_would_pass_the_budget_waits_until_another_gives_its_share_back()
    {
        var budget = new DecodeBudget(1000 * DecodeBudget.BytesPerPixel);
        var first = await budget.AcquireAsync(30, 30, Long, CancellationToken.None);   // 900 of 1000 pixels

        var second = budget.AcquireAsync(10, 20, Long, CancellationToken.None);         // 200 more: must wait
        Assert.False(second.IsCompleted);
        first.Dispose();
        using var lease = await second;

        Assert.Equal(200 * DecodeBudget.BytesPerPixel, budget.UsedBytes);
    }

    [Fact]
    public async Task A_decode_larger_than_the_whole_budget_is_refused_at_once_and_one_that_finds_no_room_in_time_is_refused()
    {
        var budget = new DecodeBudget(1000 * DecodeBudget.BytesPerPixel);

        var whole = await Assert.ThrowsAsync<DecodeBudgetExhaustedException>(() => budget.AcquireAsync(100, 100, Long, CancellationToken.None));
        using var held = await budget.AcquireAsync(30, 30, Long, CancellationToken.None);
        var busy = await Assert.ThrowsAsync<DecodeBudgetExhaustedException>(() => budget.AcquireAsync(20, 20, TimeSpan.Zero, CancellationToken.None));

        Assert.Contains("more than this node's", whole.Message);
        Assert.Contains("try again shortly", busy.Message);
    }

    [Fact]
    public async Task Every_share_comes_back_once_even_when_its_lease_is_disposed_twice()
    {
        var budget = new DecodeBudget(1000 * DecodeBudget.BytesPerPixel);
        var a = await budget.AcquireAsync(10, 10, Long, CancellationToken.None);
        var b = await budget.AcquireAsync(10, 10, Long, CancellationToken.None);

        a.Dispose();
        a.Dispose();
        Assert.Equal(100 * DecodeBudget.BytesPerPixel, budget.UsedBytes);
        b.Dispose();

        Assert.Equal(0, budget.UsedBytes);
    }
}
