using Microsoft.Data.Sqlite;

namespace Lantern.Storage;

/// <summary>The model registry as one table in the node's SQLite file, beside the artifacts and the job journal.</summary>
public sealed class SqliteModelRegistry : IModelRegistry
{
    private const string Columns = "team, name, version, model_sha256, description, preprocessing, labels, registered_by, registered_unix_ms";
    private readonly string _connectionString;

    public SqliteModelRegistry(string connectionString)
    {
        _connectionString = connectionString;
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            CREATE TABLE IF NOT EXISTS lantern_models (
                team TEXT NOT NULL,
                name TEXT NOT NULL,
                version TEXT NOT NULL,
                model_sha256 TEXT NOT NULL,
                description TEXT NOT NULL,
                preprocessing BLOB NOT NULL,
                labels TEXT NOT NULL,
                registered_by TEXT NOT NULL,
                registered_unix_ms INTEGER NOT NULL,
                PRIMARY KEY (team, name, version));
            """;
        command.ExecuteNonQuery();
    }

    public async Task<bool> AddAsync(RegisteredModelRow model, CancellationToken cancellationToken = default)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            INSERT INTO lantern_models ({Columns})
            VALUES ($team, $name, $version, $sha256, $description, $preprocessing, $labels, $by, $at)
            ON CONFLICT (team, name, version) DO NOTHING;
            """;
        command.Parameters.AddWithValue("$team", model.Team);
        command.Parameters.AddWithValue("$name", model.Name);
        command.Parameters.AddWithValue("$version", model.Version);
        command.Parameters.AddWithValue("$sha256", model.ModelSha256);
        command.Parameters.AddWithValue("$description", model.Description);
        command.Parameters.Add("$preprocessing", SqliteType.Blob).Value = model.Preprocessing;
        command.Parameters.AddWithValue("$labels", ModelRegistryRows.JoinLabels(model.Labels));
        command.Parameters.AddWithValue("$by", model.RegisteredBy);
        command.Parameters.AddWithValue("$at", model.RegisteredUnixMs);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<RegisteredModelRow?> GetAsync(string team, string name, string version, CancellationToken cancellationToken = default)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM lantern_models WHERE team = $team AND name = $name AND version = $version";
        command.Parameters.AddWithValue("$team", team);
        command.Parameters.AddWithValue("$name", name);
        command.Parameters.AddWithValue("$version", version);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    public async Task<IReadOnlyList<RegisteredModelRow>> ListAsync(string team, CancellationToken cancellationToken = default)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM lantern_models WHERE team = $team ORDER BY name, version";
        command.Parameters.AddWithValue("$team", team);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var models = new List<RegisteredModelRow>();
        while (await reader.ReadAsync(cancellationToken)) models.Add(Read(reader));
        return models;
    }

    public async Task<bool> RemoveAsync(string team, string name, string version, CancellationToken cancellationToken = default)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM lantern_models WHERE team = $team AND name = $name AND version = $version";
        command.Parameters.AddWithValue("$team", team);
        command.Parameters.AddWithValue("$name", name);
        command.Parameters.AddWithValue("$version", version);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<IReadOnlySet<string>> ModelHashesAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT DISTINCT model_sha256 FROM lantern_models";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var hashes = new HashSet<string>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken)) hashes.Add(reader.GetString(0));
        return hashes;
    }

    private static RegisteredModelRow Read(SqliteDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), (byte[])r[5],
        ModelRegistryRows.SplitLabels(r.GetString(6)), r.GetString(7), r.GetInt64(8));

    private SqliteConnection Open() => SqliteBusyTimeout.Open(_connectionString);
}

internal static class ModelRegistryRows
{
    public static string JoinLabels(IReadOnlyList<string> labels) => string.Join('\n', labels);

    public static IReadOnlyList<string> SplitLabels(string text) => text.Length == 0 ? [] : text.Split('\n');
}
