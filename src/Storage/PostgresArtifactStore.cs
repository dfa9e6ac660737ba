using Npgsql;
using NpgsqlTypes;

namespace Lantern.Storage;

/// <summary>
/// Artifacts as rows of one table in a PostgreSQL database (the one that holds the job journal when the node is
/// configured for PostgreSQL). Same table and semantics as <see cref="SqliteArtifactStore"/>.
/// </summary>
public sealed class PostgresArtifactStore : IArtifactStore, IMemoStore, IDisposable
{
    private readonly NpgsqlDataSource _dataSource;

    public PostgresArtifactStore(string connectionString)
    {
        _dataSource = NpgsqlDataSource.Create(connectionString);
        CreateTable("""
            CREATE TABLE IF NOT EXISTS lantern_artifacts (
                sha256 text PRIMARY KEY,
                kind text NOT NULL,
                size bigint NOT NULL,
                content bytea NOT NULL,
                created_unix_ms bigint NOT NULL)
            """);
        CreateTable("CREATE TABLE IF NOT EXISTS lantern_memo (key text PRIMARY KEY, value text NOT NULL, created_unix_ms bigint NOT NULL)");
    }

    private void CreateTable(string sql)
    {
        using var command = _dataSource.CreateCommand(sql);
        try
        {
            command.ExecuteNonQuery();
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DuplicateTable)
        {
            // IF NOT EXISTS is not atomic: two nodes starting together on an empty database can both try to create
            // the table, and the loser sees this. The table exists either way.
        }
    }

    async Task<string?> IMemoStore.GetAsync(string key, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("SELECT value FROM lantern_memo WHERE key = $1");
        command.Parameters.AddWithValue(key);
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    async Task IMemoStore.PutAsync(string key, string value, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(
            "INSERT INTO lantern_memo (key, value, created_unix_ms) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING");
        command.Parameters.AddWithValue(key);
        command.Parameters.AddWithValue(value);
        command.Parameters.AddWithValue(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    async Task IMemoStore.RemoveAsync(string key, string value, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("DELETE FROM lantern_memo WHERE key = $1 AND value = $2");
        command.Parameters.AddWithValue(key);
        command.Parameters.AddWithValue(value);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<ArtifactPut> PutAsync(ReadOnlyMemory<byte> content, string kind, CancellationToken cancellationToken = default)
    {
        var sha256 = ContentHash.Sha256(content.Span);
        await using var command = _dataSource.CreateCommand("""
            INSERT INTO lantern_artifacts (sha256, kind, size, content, created_unix_ms)
            VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (sha256) DO NOTHING
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = sha256 });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = kind });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = content.Length });
        command.Parameters.Add(new NpgsqlParameter<ReadOnlyMemory<byte>> { TypedValue = content, NpgsqlDbType = NpgsqlDbType.Bytea });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() });
        var inserted = await command.ExecuteNonQueryAsync(cancellationToken);
        return new ArtifactPut(sha256, content.Length, AlreadyPresent: inserted == 0);
    }

    public async Task<byte[]?> GetAsync(string sha256, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand("SELECT content FROM lantern_artifacts WHERE sha256 = $1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = sha256 });
        return await command.ExecuteScalarAsync(cancellationToken) as byte[];
    }

    public async Task<bool> ExistsAsync(string sha256, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand("SELECT 1 FROM lantern_artifacts WHERE sha256 = $1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = sha256 });
        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }

    public void Dispose() => _dataSource.Dispose();
}
