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
        AddLastPutColumn(connection);
    }

    /// <summary>Databases from before retention lack last_put_unix_ms: their artifacts count as put when created.</summary>
    private static void AddLastPutColumn(SqliteConnection connection)
    {
        using var columns = connection.CreateCommand();
        columns.CommandText = "SELECT 1 FROM pragma_table_info('lantern_artifacts') WHERE name = 'last_put_unix_ms'";
        if (columns.ExecuteScalar() is not null) return;
        using var alter = connection.CreateCommand();
        alter.CommandText = """
            ALTER TABLE lantern_artifacts ADD COLUMN last_put_unix_ms INTEGER NOT NULL DEFAULT 0;
            UPDATE lantern_artifacts SET last_put_unix_ms = created_unix_ms;
            """;
        try
        {
            alter.ExecuteNonQuery();
        }
        catch (SqliteException e) when (e.Message.Contains("duplicate column", StringComparison.OrdinalIgnoreCase))
        {
            // another node on the same file added it first
        }
    }

    public async Task<ArtifactPut> PutAsync(ReadOnlyMemory<byte> content, string kind, CancellationToken cancellationToken = default)
    {
        var sha256 = ContentHash.Sha256(content.Span);
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO lantern_artifacts (sha256, kind, size, content, created_unix_ms, last_put_unix_ms)
            VALUES ($sha256, $kind, $size, $content, $now, $now)
            ON CONFLICT (sha256) DO NOTHING;
            """;
        command.Parameters.AddWithValue("$sha256", sha256);
        command.Parameters.AddWithValue("$kind", kind);
        command.Parameters.AddWithValue("$size", content.Length);
        command.Parameters.Add("$content", SqliteType.Blob).Value = content.ToArray();
        command.Parameters.AddWithValue("$now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var inserted = await command.ExecuteNonQueryAsync(cancellationToken);
        if (inserted == 0)
        {
            command.CommandText = "UPDATE lantern_artifacts SET last_put_unix_ms = $now WHERE sha256 = $sha256";
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        return new ArtifactPut(sha256, content.Length, AlreadyPresent: inserted == 0);
    }

    public async Task<ArtifactPut> PutAsync(Stream content, string sha256, long size, string kind, CancellationToken cancellationToken = default)
    {
        await using var connection = Open();
        // One transaction: readers (WAL) see the artifact only once its bytes are all written, never the zero blob.
        await using var transaction = connection.BeginTransaction();
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO lantern_artifacts (sha256, kind, size, content, created_unix_ms, last_put_unix_ms)
            VALUES ($sha256, $kind, $size, zeroblob($size), $now, $now)
            ON CONFLICT (sha256) DO NOTHING;
            """;
        command.Parameters.AddWithValue("$sha256", sha256);
        command.Parameters.AddWithValue("$kind", kind);
        command.Parameters.AddWithValue("$size", size);
        command.Parameters.AddWithValue("$now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var inserted = await command.ExecuteNonQueryAsync(cancellationToken) == 1;
        if (inserted)
        {
            command.CommandText = "SELECT last_insert_rowid()";
            var rowid = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
            await using var blob = new SqliteBlob(connection, "lantern_artifacts", "content", rowid);
            await content.CopyToAsync(blob, cancellationToken);
        }
        else
        {
            command.CommandText = "UPDATE lantern_artifacts SET last_put_unix_ms = $now WHERE sha256 = $sha256";
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return new ArtifactPut(sha256, size, AlreadyPresent: !inserted);
    }

    public async Task<IReadOnlyList<string>> DeleteUnusedAsync(IReadOnlyCollection<string> kinds, long putBeforeUnixMs,
        IReadOnlySet<string> keep, CancellationToken cancellationToken = default)
    {
        await using var connection = Open();
        var candidates = new List<string>();
        await using (var select = connection.CreateCommand())
        {
            select.CommandText = "SELECT sha256, kind FROM lantern_artifacts WHERE last_put_unix_ms < $before";
            select.Parameters.AddWithValue("$before", putBeforeUnixMs);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
                if (kinds.Contains(reader.GetString(1)) && !keep.Contains(reader.GetString(0))) candidates.Add(reader.GetString(0));
        }
        var deleted = new List<string>();
        foreach (var sha256 in candidates)
        {
            // Checked again: bytes put again since the select are in use.
            await using var delete = connection.CreateCommand();
            delete.CommandText = "DELETE FROM lantern_artifacts WHERE sha256 = $sha256 AND last_put_unix_ms < $before";
            delete.Parameters.AddWithValue("$sha256", sha256);
            delete.Parameters.AddWithValue("$before", putBeforeUnixMs);
            if (await delete.ExecuteNonQueryAsync(cancellationToken) == 1) deleted.Add(sha256);
        }
        return deleted;
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

    private SqliteConnection Open() => SqliteBusyTimeout.Open(_connectionString);
}
