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
    public async Task Retention_deletes_uploads_put_before_the_cutoff_except_those_kept_and_derived_kinds()
    {
        var store = await NewStoreAsync();
        var model = await store.PutAsync("model bytes"u8.ToArray(), "model");
        var usedImage = await store.PutAsync("image in use"u8.ToArray(), "image");
        var unusedImage = await store.PutAsync("image nobody uses"u8.ToArray(), "image");
        var segmentation = await store.PutAsync("derived"u8.ToArray(), "segmentation");
        var cutoff = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 1;

        var deleted = await store.DeleteUnusedAsync(["model", "image"], cutoff, new HashSet<string> { usedImage.Sha256 });

        Assert.Equal(new[] { model.Sha256, unusedImage.Sha256 }.Order(), deleted.Order());
        Assert.False(await store.ExistsAsync(model.Sha256));
        Assert.False(await store.ExistsAsync(unusedImage.Sha256));
        Assert.True(await store.ExistsAsync(usedImage.Sha256));
        Assert.True(await store.ExistsAsync(segmentation.Sha256));
    }

    [Fact]
    public async Task Uploading_bytes_already_stored_counts_as_a_put_so_retention_keeps_them()
    {
        var store = await NewStoreAsync();
        var bytes = "uploaded twice"u8.ToArray();
        await store.PutAsync(bytes, "image");
        await Task.Delay(20);
        var between = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await Task.Delay(20);
        var again = await store.PutAsync(bytes, "image");

        Assert.True(again.AlreadyPresent);
        Assert.Empty(await store.DeleteUnusedAsync(["image"], between, new HashSet<string>()));
        Assert.True(await store.ExistsAsync(again.Sha256));
    }

    [Fact]
    public async Task Bytes_put_from_a_stream_come_back_byte_for_byte_and_a_second_put_is_already_present()
    {
        var store = await NewStoreAsync();
        var bytes = Enumerable.Range(0, 3_000_000).Select(i => (byte)(i * 31 + i / 7)).ToArray();
        var sha256 = ContentHash.Sha256(bytes);

        var first = await store.PutAsync(new MemoryStream(bytes), sha256, bytes.Length, "model");
        var second = await store.PutAsync(new MemoryStream(bytes), sha256, bytes.Length, "model");

        Assert.Equal(new ArtifactPut(sha256, bytes.Length, AlreadyPresent: false), first);
        Assert.True(second.AlreadyPresent);
        Assert.Equal(bytes, await store.GetAsync(sha256));
        Assert.True((await store.PutAsync(bytes, "model")).AlreadyPresent); // the same artifact as bytes put from memory
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

    [Fact]
    public async Task A_database_from_before_retention_gains_the_last_put_time_from_each_artifacts_creation()
    {
        var connectionString = $"Data Source={TestNode.TempDatabase()}";
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection(connectionString))
        {
            connection.Open();
            await using var command = connection.CreateCommand();
            command.CommandText = """
                CREATE TABLE lantern_artifacts (sha256 TEXT PRIMARY KEY, kind TEXT NOT NULL, size INTEGER NOT NULL,
                    content BLOB NOT NULL, created_unix_ms INTEGER NOT NULL);
                INSERT INTO lantern_artifacts VALUES ('old', 'image', 3, x'010203', 1000), ('newer', 'image', 3, x'040506', 5000);
                """;
            await command.ExecuteNonQueryAsync();
        }

        var store = new SqliteArtifactStore(connectionString);

        Assert.Equal(["old"], await store.DeleteUnusedAsync(["image"], putBeforeUnixMs: 2000, new HashSet<string>()));
        Assert.Equal([4, 5, 6], await store.GetAsync("newer"));
    }
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
