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
        // Databases from before retention: their artifacts count as put when created.
        CreateTable("""
            DO $$ BEGIN
              IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                             WHERE table_name = 'lantern_artifacts' AND column_name = 'last_put_unix_ms') THEN
                ALTER TABLE lantern_artifacts ADD COLUMN last_put_unix_ms bigint NOT NULL DEFAULT 0;
                UPDATE lantern_artifacts SET last_put_unix_ms = created_unix_ms;
              END IF;
            END $$
            """);
    }

    private void CreateTable(string sql)
    {
        using var command = _dataSource.CreateCommand(sql);
        try
        {
            command.ExecuteNonQuery();
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DuplicateTable
                                              or PostgresErrorCodes.DuplicateColumn)
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
            INSERT INTO lantern_artifacts (sha256, kind, size, content, created_unix_ms, last_put_unix_ms)
            VALUES ($1, $2, $3, $4, $5, $5)
            ON CONFLICT (sha256) DO NOTHING
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = sha256 });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = kind });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = content.Length });
        command.Parameters.Add(new NpgsqlParameter<ReadOnlyMemory<byte>> { TypedValue = content, NpgsqlDbType = NpgsqlDbType.Bytea });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() });
        var inserted = await command.ExecuteNonQueryAsync(cancellationToken);
        if (inserted == 0)
        {
            await using var touch = _dataSource.CreateCommand("UPDATE lantern_artifacts SET last_put_unix_ms = $1 WHERE sha256 = $2");
            touch.Parameters.Add(new NpgsqlParameter<long> { TypedValue = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() });
            touch.Parameters.Add(new NpgsqlParameter<string> { TypedValue = sha256 });
            await touch.ExecuteNonQueryAsync(cancellationToken);
        }
        return new ArtifactPut(sha256, content.Length, AlreadyPresent: inserted == 0);
    }

    public async Task<ArtifactPut> PutAsync(Stream content, string sha256, long size, string kind, CancellationToken cancellationToken = default)
    {
        if (await ExistsAsync(sha256, cancellationToken))
            return await TouchAsync(sha256, size, cancellationToken);
        // Npgsql sends a stream parameter's bytes as they are read, so the bytea is never whole in this process.
        await using var command = _dataSource.CreateCommand("""
            INSERT INTO lantern_artifacts (sha256, kind, size, content, created_unix_ms, last_put_unix_ms)
            VALUES ($1, $2, $3, $4, $5, $5)
            ON CONFLICT (sha256) DO NOTHING
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = sha256 });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = kind });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = size });
        command.Parameters.Add(new NpgsqlParameter { Value = content, NpgsqlDbType = NpgsqlDbType.Bytea, Size = checked((int)size) });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() });
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1
            ? new ArtifactPut(sha256, size, AlreadyPresent: false)
            : await TouchAsync(sha256, size, cancellationToken); // put by another gateway meanwhile
    }

    private async Task<ArtifactPut> TouchAsync(string sha256, long size, CancellationToken cancellationToken)
    {
        await using var touch = _dataSource.CreateCommand("UPDATE lantern_artifacts SET last_put_unix_ms = $1 WHERE sha256 = $2");
        touch.Parameters.Add(new NpgsqlParameter<long> { TypedValue = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() });
        touch.Parameters.Add(new NpgsqlParameter<string> { TypedValue = sha256 });
        await touch.ExecuteNonQueryAsync(cancellationToken);
        return new ArtifactPut(sha256, size, AlreadyPresent: true);
    }

    public async Task<IReadOnlyList<string>> DeleteUnusedAsync(IReadOnlyCollection<string> kinds, long putBeforeUnixMs,
        IReadOnlySet<string> keep, CancellationToken cancellationToken = default)
    {
        var candidates = new List<string>();
        await using (var select = _dataSource.CreateCommand("SELECT sha256 FROM lantern_artifacts WHERE last_put_unix_ms < $1 AND kind = ANY($2)"))
        {
            select.Parameters.Add(new NpgsqlParameter<long> { TypedValue = putBeforeUnixMs });
            select.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. kinds] });
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
                if (!keep.Contains(reader.GetString(0))) candidates.Add(reader.GetString(0));
        }
        var deleted = new List<string>();
        foreach (var sha256 in candidates)
        {
            // Checked again: bytes put again since the select are in use.
            await using var delete = _dataSource.CreateCommand("DELETE FROM lantern_artifacts WHERE sha256 = $1 AND last_put_unix_ms < $2");
            delete.Parameters.Add(new NpgsqlParameter<string> { TypedValue = sha256 });
            delete.Parameters.Add(new NpgsqlParameter<long> { TypedValue = putBeforeUnixMs });
            if (await delete.ExecuteNonQueryAsync(cancellationToken) == 1) deleted.Add(sha256);
        }
        return deleted;
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
