using Lantern.Cluster.Tests.Support;
using Lantern.Storage;

namespace Lantern.Cluster.Tests.Storage;

/// <summary>The model registry table's contract, specified once and run on each backend (the subclasses at the end).</summary>
public abstract class ModelRegistryStoreTests
{
    protected abstract Task<IModelRegistry> NewRegistryAsync();

    private static RegisteredModelRow Row(string team, string name, string version, string sha = "ab") =>
        new(team, name, version, sha, "a description", [1, 2, 3], ["cat", "dog"], "alice", 1_700_000_000_000);

    [Fact]
    public async Task A_registered_model_comes_back_whole_and_a_second_registration_of_the_same_name_and_version_is_refused()
    {
        var registry = await NewRegistryAsync();
        var row = Row("vision", "resnet", "1");

        Assert.True(await registry.AddAsync(row));
        Assert.False(await registry.AddAsync(row with { ModelSha256 = "cd" }));

        var stored = await registry.GetAsync("vision", "resnet", "1");
        Assert.NotNull(stored);
        Assert.Equal(row.Preprocessing, stored.Preprocessing);
        Assert.Equal(row.Labels, stored.Labels);
        Assert.Equal(row with { Preprocessing = stored.Preprocessing, Labels = stored.Labels }, stored);
    }

    [Fact]
    public async Task The_hashes_of_every_teams_registered_models_are_listed_once_for_retention()
    {
        var registry = await NewRegistryAsync();
        await registry.AddAsync(Row("vision", "resnet", "1", sha: "ab"));
        await registry.AddAsync(Row("vision", "resnet", "2", sha: "ab"));
        await registry.AddAsync(Row("nlp", "bert", "1", sha: "ef"));

        Assert.Equal(["ab", "ef"], (await registry.ModelHashesAsync()).Order());
    }

    [Fact]
    public async Task Models_are_scoped_to_their_team_listed_by_name_and_version_and_removed_once()
    {
        var registry = await NewRegistryAsync();
        await registry.AddAsync(Row("vision", "resnet", "2"));
        await registry.AddAsync(Row("vision", "alexnet", "1"));
        await registry.AddAsync(Row("vision", "resnet", "1"));
        await registry.AddAsync(Row("nlp", "resnet", "1", sha: "ef"));

        Assert.Equal(["alexnet:1", "resnet:1", "resnet:2"], (await registry.ListAsync("vision")).Select(m => $"{m.Name}:{m.Version}"));
        Assert.Equal("ef", (await registry.GetAsync("nlp", "resnet", "1"))!.ModelSha256);
        Assert.Null(await registry.GetAsync("", "resnet", "1"));

        Assert.True(await registry.RemoveAsync("vision", "resnet", "1"));
        Assert.False(await registry.RemoveAsync("vision", "resnet", "1"));
        Assert.Null(await registry.GetAsync("vision", "resnet", "1"));
        Assert.NotNull(await registry.GetAsync("nlp", "resnet", "1"));
    }

    [Fact]
    public async Task A_model_without_labels_keeps_none()
    {
        var registry = await NewRegistryAsync();
        await registry.AddAsync(Row("", "bare", "1") with { Labels = [] });

        Assert.Empty((await registry.GetAsync("", "bare", "1"))!.Labels);
    }
}

public sealed class SqliteModelRegistryStoreTests : ModelRegistryStoreTests
{
    protected override Task<IModelRegistry> NewRegistryAsync() =>
        Task.FromResult<IModelRegistry>(new SqliteModelRegistry($"Data Source={TestNode.TempDatabase()}"));
}

[Collection(PostgresServer.Collection)]
public sealed class PostgresModelRegistryStoreTests(PostgresServer server) : ModelRegistryStoreTests, IDisposable
{
    private readonly List<PostgresModelRegistry> _registries = [];

    protected override async Task<IModelRegistry> NewRegistryAsync()
    {
        var registry = new PostgresModelRegistry(await server.CreateDatabaseAsync());
        _registries.Add(registry);
        return registry;
    }

    public void Dispose() => _registries.ForEach(registry => registry.Dispose());
}
