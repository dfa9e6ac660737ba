using Microsoft.Data.Sqlite;

namespace Lantern.Storage;

/// <summary>Artifacts as rows of one table in the node's SQLite file (the same file that holds the job journal).</summary>
public sealed class SqliteArtifactStore : IArtifactStore, IMemoStore
{
    private readonly string _connectionString;

    public SqliteArtifactStore(string connectionString)
    {
        _connectionString = connectionString;
        using var connection = Open();
        using var command = connection.CreateCommand();
        // WAL lets readers (workers fetching a model) proceed while the journal writes.
        command.CommandText = """
            PRAGMA journal_mode=WAL;
            CREATE TABLE IF NOT EXISTS lantern_artifacts (
                sha256 TEXT PRIMARY KEY,
                kind TEXT NOT NULL,
                size INTEGER NOT NULL,
                content BLOB NOT NULL,
                created_unix_ms INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS lantern_memo (
                key TEXT PRIMARY KEY,
                value TEXT NOT NULL,
                created_unix_ms INTEGER NOT NULL);
            """;
        command.ExecuteNonQuery();
    }

    public async Task<ArtifactPut> PutAsync(ReadOnlyMemory<byte> content, string kind, CancellationToken cancellationToken = default)
    {
        var sha256 = ContentHash.Sha256(content.Span);
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO lantern_artifacts (sha256, kind, size, content, created_unix_ms)
            VALUES ($sha256, $kind, $size, $content, $now)
            ON CONFLICT (sha256) DO NOTHING;
            """;
        command.Parameters.AddWithValue("$sha256", sha256);
        command.Parameters.AddWithValue("$kind", kind);
        command.Parameters.AddWithValue("$size", content.Length);
        command.Parameters.Add("$content", SqliteType.Blob).Value = content.ToArray();
        command.Parameters.AddWithValue("$now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var inserted = await command.ExecuteNonQueryAsync(cancellationToken);
        return new ArtifactPut(sha256, content.Length, AlreadyPresent: inserted == 0);
    }

    public async Task<byte[]?> GetAsync(string sha256, CancellationToken cancellationToken = default)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT content FROM lantern_artifacts WHERE sha256 = $sha256";
        command.Parameters.AddWithValue("$sha256", sha256);
        return await command.ExecuteScalarAsync(cancellationToken) as byte[];
    }

    public async Task<bool> ExistsAsync(string sha256, CancellationToken cancellationToken = default)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT 1 FROM lantern_artifacts WHERE sha256 = $sha256";
        command.Parameters.AddWithValue("$sha256", sha256);
        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }

    async Task<string?> IMemoStore.GetAsync(string key, CancellationToken cancellationToken)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT value FROM lantern_memo WHERE key = $key";
        command.Parameters.AddWithValue("$key", key);
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    async Task IMemoStore.PutAsync(string key, string value, CancellationToken cancellationToken)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO lantern_memo (key, value, created_unix_ms) VALUES ($key, $value, $now) ON CONFLICT (key) DO NOTHING;
            """;
        command.Parameters.AddWithValue("$key", key);
        command.Parameters.AddWithValue("$value", value);
        command.Parameters.AddWithValue("$now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    async Task IMemoStore.RemoveAsync(string key, string value, CancellationToken cancellationToken)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM lantern_memo WHERE key = $key AND value = $value";
        command.Parameters.AddWithValue("$key", key);
        command.Parameters.AddWithValue("$value", value);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }
}
