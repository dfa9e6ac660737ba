using System.Text;
using Lantern.Cluster.Tests.Support;
using Lantern.Storage;

namespace Lantern.Cluster.Tests.Storage;

/// <summary>The artifact store's contract, specified once and run on each backend (the subclasses at the end).</summary>
public abstract class ArtifactStoreTests
{
    protected abstract Task<IArtifactStore> NewStoreAsync();

    [Fact]
    public async Task Putting_the_same_bytes_twice_stores_them_once_under_their_SHA256_and_says_so_the_second_time()
    {
        var store = await NewStoreAsync();
        var bytes = Encoding.UTF8.GetBytes("a model, say");

        var first = await store.PutAsync(bytes, "model");
        var second = await store.PutAsync(bytes, "model");

        Assert.Equal(ContentHash.Sha256(bytes), first.Sha256);
        Assert.Equal(64, first.Sha256.Length);
        Assert.Equal(bytes.Length, first.Size);
        Assert.False(first.AlreadyPresent);
        Assert.Equal(first with { AlreadyPresent = true }, second);
    }

    [Fact]
    public async Task A_stored_artifact_exists_and_comes_back_byte_for_byte()
    {
        var store = await NewStoreAsync();
        var bytes = Enumerable.Range(0, 300_000).Select(i => (byte)(i * 7)).ToArray(); // every byte value, larger than a page

        var put = await store.PutAsync(bytes, "image");

        Assert.True(await store.ExistsAsync(put.Sha256));
        Assert.Equal(bytes, await store.GetAsync(put.Sha256));
    }

    [Fact]
    public async Task An_unknown_hash_does_not_exist_and_gets_null()
    {
        var store = await NewStoreAsync();
        var missing = ContentHash.Sha256("never stored"u8);

        Assert.False(await store.ExistsAsync(missing));
        Assert.Null(await store.GetAsync(missing));
    }

    [Fact]
    public async Task A_memo_keeps_its_first_value_and_forgets_it_only_when_asked_to_with_that_value()
    {
        var memo = (IMemoStore)await NewStoreAsync();

        await memo.PutAsync("job-result/v1/k", "first");
        await memo.PutAsync("job-result/v1/k", "second");
        var kept = await memo.GetAsync("job-result/v1/k");
        await memo.RemoveAsync("job-result/v1/k", "second"); // not the value it holds: stays
        var stillKept = await memo.GetAsync("job-result/v1/k");
        await memo.RemoveAsync("job-result/v1/k", "first");
        var forgotten = await memo.GetAsync("job-result/v1/k");
        await memo.PutAsync("job-result/v1/k", "third");

        Assert.Equal(("first", "first", null), (kept, stillKept, forgotten));
        Assert.Equal("third", await memo.GetAsync("job-result/v1/k"));
    }
}

public sealed class SqliteArtifactStoreTests : ArtifactStoreTests
{
    protected override Task<IArtifactStore> NewStoreAsync() =>
        Task.FromResult<IArtifactStore>(new SqliteArtifactStore($"Data Source={TestNode.TempDatabase()}"));
}

[Collection(PostgresServer.Collection)]
public sealed class PostgresArtifactStoreTests(PostgresServer server) : ArtifactStoreTests, IDisposable
{
    private readonly List<PostgresArtifactStore> _stores = [];

    protected override async Task<IArtifactStore> NewStoreAsync()
    {
        var store = new PostgresArtifactStore(await server.CreateDatabaseAsync());
        _stores.Add(store);
        return store;
    }

    public void Dispose() => _stores.ForEach(store => store.Dispose());
}
