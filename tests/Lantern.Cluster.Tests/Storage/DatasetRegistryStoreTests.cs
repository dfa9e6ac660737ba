using Lantern.Cluster.Tests.Support;
using Lantern.Storage.Datasets;

namespace Lantern.Cluster.Tests.Storage;

/// <summary>The dataset tables' contract, specified once and run on each backend (the subclasses at the end).</summary>
public abstract class DatasetRegistryStoreTests
{
    protected abstract Task<IDatasetRegistry> NewRegistryAsync();

    private const long At = 1_700_000_000_000;

    private static string Sha(int i) => i.ToString("x64");

    private static List<DatasetEntryRow> Entries(int count, string label = "cat") =>
        [.. Enumerable.Range(0, count).Select(i => new DatasetEntryRow(Sha(i), $"img-{i:000}.png", i % 2 == 0 ? label : ""))];

    [Fact]
    public async Task A_saved_dataset_comes_back_whole_in_order_a_page_at_a_time()
    {
        var registry = await NewRegistryAsync();
        var entries = Entries(1_203); // more than one INSERT batch

        var saved = await registry.SaveAsync("vision", "pets", entries, "alice", At);

        Assert.True(saved.Created);
        Assert.Equal(new DatasetRow("vision", "pets", 1, DatasetContent.Sha256(entries), 1_203, 602, "alice", At), saved.Dataset);
        Assert.Equal(saved.Dataset, await registry.GetAsync("vision", "pets", 1));
        Assert.Equal(saved.Dataset, await registry.GetAsync("vision", "pets", null));
        var pages = new List<DatasetEntryRow>();
        for (var offset = 0; offset < 1_203; offset += 500) pages.AddRange(await registry.EntriesAsync("vision", "pets", 1, offset, 500));
        Assert.Equal(entries, pages);
        Assert.Empty(await registry.EntriesAsync("vision", "pets", 1, 1_203, 500));
    }

    [Fact]
    public async Task The_same_contents_keep_the_version_other_contents_make_the_next_and_a_removed_number_is_not_reused()
    {
        var registry = await NewRegistryAsync();
        var first = Entries(3);
        var relabelled = Entries(3, label: "dog");

        Assert.Equal((1, true), Version(await registry.SaveAsync("vision", "pets", first, "alice", At)));
        Assert.Equal((1, false), Version(await registry.SaveAsync("vision", "pets", first, "bob", At + 1)));
        Assert.Equal("alice", (await registry.GetAsync("vision", "pets", null))!.CreatedBy);
        Assert.Equal((2, true), Version(await registry.SaveAsync("vision", "pets", relabelled, "bob", At + 2)));
        Assert.Equal((3, true), Version(await registry.SaveAsync("vision", "pets", [.. first.AsEnumerable().Reverse()], "bob", At + 3)));

        Assert.Equal(1, await registry.RemoveAsync("vision", "pets", 3));
        Assert.Equal(2, (await registry.GetAsync("vision", "pets", null))!.Version);
        Assert.Equal((4, true), Version(await registry.SaveAsync("vision", "pets", first, "bob", At + 4)));
        Assert.Equal("dog", (await registry.EntriesAsync("vision", "pets", 2, 0, 1))[0].Label);
    }

    [Fact]
    public async Task Datasets_are_scoped_to_their_team_listed_by_name_and_version_and_removed_by_version_or_name()
    {
        var registry = await NewRegistryAsync();
        await registry.SaveAsync("vision", "pets", Entries(2), "alice", At);
        await registry.SaveAsync("vision", "pets", Entries(3), "alice", At);
        await registry.SaveAsync("vision", "cars", Entries(1), "alice", At);
        await registry.SaveAsync("audio", "pets", Entries(4), "carol", At);

        Assert.Equal(["cars:1", "pets:1", "pets:2"], (await registry.ListAsync("vision")).Select(d => $"{d.Name}:{d.Version}"));
        Assert.Equal(4, (await registry.GetAsync("audio", "pets", null))!.ImageCount);
        Assert.Null(await registry.GetAsync("", "pets", null));
        Assert.Empty(await registry.EntriesAsync("", "pets", 1, 0, 10));

        Assert.Equal(0, await registry.RemoveAsync("vision", "pets", 7));
        Assert.Equal(2, await registry.RemoveAsync("vision", "pets", null));
        Assert.Equal(0, await registry.RemoveAsync("vision", "pets", null));
        Assert.Null(await registry.GetAsync("vision", "pets", 1));
        Assert.Empty(await registry.EntriesAsync("vision", "pets", 1, 0, 10));
        Assert.NotNull(await registry.GetAsync("audio", "pets", 1));
    }

    [Fact]
    public async Task The_images_of_every_teams_datasets_are_listed_once_for_retention()
    {
        var registry = await NewRegistryAsync();
        await registry.SaveAsync("vision", "pets", Entries(3), "alice", At);
        await registry.SaveAsync("audio", "pets", Entries(2), "carol", At);

        Assert.Equal([Sha(0), Sha(1), Sha(2)], (await registry.ImageHashesAsync()).Order());
        await registry.RemoveAsync("vision", "pets", null);
        Assert.Equal([Sha(0), Sha(1)], (await registry.ImageHashesAsync()).Order());
    }

    [Fact]
    public async Task Saves_of_one_name_at_once_each_get_their_own_version()
    {
        var registry = await NewRegistryAsync();
        var saves = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            Task.Run(() => registry.SaveAsync("vision", "pets", [new DatasetEntryRow(Sha(i), "a.png", "")], "alice", At))));

        Assert.Equal(Enumerable.Range(1, 8), saves.Select(s => s.Dataset.Version).Order());
    }

    private static (int Version, bool Created) Version(SavedDataset saved) => (saved.Dataset.Version, saved.Created);
}

public sealed class SqliteDatasetRegistryStoreTests : DatasetRegistryStoreTests
{
    protected override Task<IDatasetRegistry> NewRegistryAsync() =>
        Task.FromResult<IDatasetRegistry>(DatasetRegistry.Sqlite($"Data Source={TestNode.TempDatabase()};Pooling=True"));
}

[Collection(PostgresServer.Collection)]
public sealed class PostgresDatasetRegistryStoreTests(PostgresServer server) : DatasetRegistryStoreTests, IDisposable
{
    private readonly List<DatasetRegistry> _registries = [];

    protected override async Task<IDatasetRegistry> NewRegistryAsync()
    {
        var registry = DatasetRegistry.Postgres(await server.CreateDatabaseAsync());
        _registries.Add(registry);
        return registry;
    }

    public void Dispose() => _registries.ForEach(registry => registry.Dispose());
}
