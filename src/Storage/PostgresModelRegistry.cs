using Npgsql;
using NpgsqlTypes;

namespace Lantern.Storage;

/// <summary>The model registry as one table in the node's PostgreSQL database; same table and semantics as <see cref="SqliteModelRegistry"/>.</summary>
public sealed class PostgresModelRegistry : IModelRegistry, IDisposable
{
    private const string Columns = "team, name, version, model_sha256, description, preprocessing, labels, registered_by, registered_unix_ms";
    private readonly NpgsqlDataSource _dataSource;

    public PostgresModelRegistry(string connectionString)
    {
        _dataSource = NpgsqlDataSource.Create(connectionString);
        using var command = _dataSource.CreateCommand("""
            CREATE TABLE IF NOT EXISTS lantern_models (
                team text NOT NULL,
                name text NOT NULL,
                version text NOT NULL,
                model_sha256 text NOT NULL,
                description text NOT NULL,
                preprocessing bytea NOT NULL,
                labels text NOT NULL,
                registered_by text NOT NULL,
                registered_unix_ms bigint NOT NULL,
                PRIMARY KEY (team, name, version))
            """);
        try
        {
            command.ExecuteNonQuery();
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DuplicateTable)
        {
            // Two nodes creating the table at once on an empty database (IF NOT EXISTS is not atomic): it exists either way.
        }
    }

    public async Task<bool> AddAsync(RegisteredModelRow model, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand($"""
            INSERT INTO lantern_models ({Columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            ON CONFLICT (team, name, version) DO NOTHING
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = model.Team });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = model.Name });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = model.Version });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = model.ModelSha256 });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = model.Description });
        command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = model.Preprocessing, NpgsqlDbType = NpgsqlDbType.Bytea });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = ModelRegistryRows.JoinLabels(model.Labels) });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = model.RegisteredBy });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = model.RegisteredUnixMs });
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<RegisteredModelRow?> GetAsync(string team, string name, string version, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand($"SELECT {Columns} FROM lantern_models WHERE team = $1 AND name = $2 AND version = $3");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = team });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = version });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    public async Task<IReadOnlyList<RegisteredModelRow>> ListAsync(string team, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand($"SELECT {Columns} FROM lantern_models WHERE team = $1 ORDER BY name, version");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = team });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var models = new List<RegisteredModelRow>();
        while (await reader.ReadAsync(cancellationToken)) models.Add(Read(reader));
        return models;
    }

    public async Task<bool> RemoveAsync(string team, string name, string version, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand("DELETE FROM lantern_models WHERE team = $1 AND name = $2 AND version = $3");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = team });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = version });
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<IReadOnlySet<string>> ModelHashesAsync(CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand("SELECT DISTINCT model_sha256 FROM lantern_models");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var hashes = new HashSet<string>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken)) hashes.Add(reader.GetString(0));
        return hashes;
    }

    public void Dispose() => _dataSource.Dispose();

    private static RegisteredModelRow Read(NpgsqlDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), (byte[])r[5],
        ModelRegistryRows.SplitLabels(r.GetString(6)), r.GetString(7), r.GetInt64(8));
}
