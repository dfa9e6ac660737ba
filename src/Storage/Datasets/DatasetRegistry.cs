using System.Data.Common;
using System.Text;

namespace Lantern.Storage.Datasets;

/// <summary>
/// The dataset registry in the node's database (the SQLite file or PostgreSQL database beside the model registry). The SQL
/// is the subset SQLite and PostgreSQL share, so one class serves both, as <see cref="Users.UserStore"/> does. Three
/// tables: the datasets, their entries, and per name the highest version ever given (so a removed number is not reused).
/// </summary>
public sealed class DatasetRegistry : IDatasetRegistry, IDisposable
{
    /// <summary>Entries per INSERT statement: 7 parameters each, well under both databases' parameter limits.</summary>
    private const int EntriesPerInsert = 500;

    private const string Columns = "team, name, version, content_sha256, image_count, labelled_count, created_by, created_unix_ms";

    private readonly SqlConnections _connections;

    private DatasetRegistry(SqlConnections connections)
    {
        _connections = connections;
        CreateTables();
    }

    public static DatasetRegistry Sqlite(string connectionString) => new(SqlConnections.Sqlite(connectionString));

    public static DatasetRegistry Postgres(string connectionString) => new(SqlConnections.Postgres(connectionString));

    private void CreateTables()
    {
        string[] tables =
        [
            """
            CREATE TABLE IF NOT EXISTS lantern_dataset_names (
                team text NOT NULL, name text NOT NULL, last_version bigint NOT NULL, PRIMARY KEY (team, name))
            """,
            """
            CREATE TABLE IF NOT EXISTS lantern_datasets (
                team text NOT NULL, name text NOT NULL, version bigint NOT NULL, content_sha256 text NOT NULL,
                image_count bigint NOT NULL, labelled_count bigint NOT NULL, created_by text NOT NULL,
                created_unix_ms bigint NOT NULL, PRIMARY KEY (team, name, version))
            """,
            """
            CREATE TABLE IF NOT EXISTS lantern_dataset_entries (
                team text NOT NULL, name text NOT NULL, version bigint NOT NULL, entry_index bigint NOT NULL,
                image_sha256 text NOT NULL, file_name text NOT NULL, label text NOT NULL,
                PRIMARY KEY (team, name, version, entry_index))
            """,
        ];
        _connections.CreateTables(tables);
    }

    public async Task<SavedDataset> SaveAsync(string team, string name, IReadOnlyList<DatasetEntryRow> entries, string createdBy,
        long createdUnixMs, CancellationToken cancellationToken = default)
    {
        var contentSha256 = DatasetContent.Sha256(entries);
        await using var connection = await _connections.OpenAsync(cancellationToken);
        // SQLite: BEGIN IMMEDIATE (one writer at a time). PostgreSQL: the upsert below locks the name's row until commit, so
        // two saves of one name run one after the other and the second sees the first's version.
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        long lastVersion;
        await using (var claim = Command(connection, transaction, """
            INSERT INTO lantern_dataset_names (team, name, last_version) VALUES (@team, @name, 0)
            ON CONFLICT (team, name) DO UPDATE SET last_version = lantern_dataset_names.last_version
            RETURNING last_version
            """, [("team", team), ("name", name)]))
            lastVersion = Convert.ToInt64(await claim.ExecuteScalarAsync(cancellationToken));

        var latest = await ReadDatasetsAsync(connection, transaction,
            $"SELECT {Columns} FROM lantern_datasets WHERE team = @team AND name = @name ORDER BY version DESC LIMIT 1",
            cancellationToken, ("team", team), ("name", name));
        if (latest is [{ } same] && same.ContentSha256 == contentSha256)
        {
            await transaction.CommitAsync(cancellationToken);
            return new SavedDataset(same, Created: false);
        }

        var row = new DatasetRow(team, name, checked((int)lastVersion + 1), contentSha256, entries.Count, DatasetContent.Labelled(entries),
            createdBy, createdUnixMs);
        await ExecuteAsync(connection, transaction, "UPDATE lantern_dataset_names SET last_version = @version WHERE team = @team AND name = @name",
            cancellationToken, ("version", (long)row.Version), ("team", team), ("name", name));
        await ExecuteAsync(connection, transaction, $"""
            INSERT INTO lantern_datasets ({Columns})
            VALUES (@team, @name, @version, @content, @images, @labelled, @by, @at)
            """, cancellationToken, ("team", team), ("name", name), ("version", (long)row.Version), ("content", contentSha256),
            ("images", (long)row.ImageCount), ("labelled", (long)row.LabelledCount), ("by", createdBy), ("at", createdUnixMs));
        for (var start = 0; start < entries.Count; start += EntriesPerInsert)
            await InsertEntriesAsync(connection, transaction, row, entries, start, Math.Min(EntriesPerInsert, entries.Count - start),
                cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new SavedDataset(row, Created: true);
    }

    private static async Task InsertEntriesAsync(DbConnection connection, DbTransaction transaction, DatasetRow dataset,
        IReadOnlyList<DatasetEntryRow> entries, int start, int count, CancellationToken cancellationToken)
    {
        var sql = new StringBuilder("INSERT INTO lantern_dataset_entries (team, name, version, entry_index, image_sha256, file_name, label) VALUES ");
        var parameters = new List<(string, object)> { ("team", dataset.Team), ("name", dataset.Name), ("version", (long)dataset.Version) };
        for (var i = 0; i < count; i++)
        {
            var entry = entries[start + i];
            if (i > 0) sql.Append(", ");
            sql.Append($"(@team, @name, @version, @p{i}, @s{i}, @f{i}, @l{i})");
            parameters.Add(($"p{i}", (long)(start + i)));
            parameters.Add(($"s{i}", entry.ImageSha256));
            parameters.Add(($"f{i}", entry.FileName));
            parameters.Add(($"l{i}", entry.Label));
        }
        await ExecuteAsync(connection, transaction, sql.ToString(), cancellationToken, [.. parameters]);
    }

    public async Task<DatasetRow?> GetAsync(string team, string name, int? version, CancellationToken cancellationToken = default)
    {
        await using var connection = await _connections.OpenAsync(cancellationToken);
        var rows = version is { } v
            ? await ReadDatasetsAsync(connection, null,
                $"SELECT {Columns} FROM lantern_datasets WHERE team = @team AND name = @name AND version = @version",
                cancellationToken, ("team", team), ("name", name), ("version", (long)v))
            : await ReadDatasetsAsync(connection, null,
                $"SELECT {Columns} FROM lantern_datasets WHERE team = @team AND name = @name ORDER BY version DESC LIMIT 1",
                cancellationToken, ("team", team), ("name", name));
        return rows.FirstOrDefault();
    }

    public async Task<IReadOnlyList<DatasetEntryRow>> EntriesAsync(string team, string name, int version, int offset, int count,
        CancellationToken cancellationToken = default)
    {
        await using var connection = await _connections.OpenAsync(cancellationToken);
        await using var command = Command(connection, null, """
            SELECT image_sha256, file_name, label FROM lantern_dataset_entries
            WHERE team = @team AND name = @name AND version = @version AND entry_index >= @from AND entry_index < @to
            ORDER BY entry_index
            """, [("team", team), ("name", name), ("version", (long)version), ("from", (long)offset), ("to", (long)offset + count)]);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var entries = new List<DatasetEntryRow>();
        while (await reader.ReadAsync(cancellationToken)) entries.Add(new DatasetEntryRow(reader.GetString(0), reader.GetString(1), reader.GetString(2)));
        return entries;
    }

    public async Task<IReadOnlyList<DatasetRow>> ListAsync(string team, CancellationToken cancellationToken = default)
    {
        await using var connection = await _connections.OpenAsync(cancellationToken);
        return await ReadDatasetsAsync(connection, null, $"SELECT {Columns} FROM lantern_datasets WHERE team = @team ORDER BY name, version",
            cancellationToken, ("team", team));
    }

    public async Task<int> RemoveAsync(string team, string name, int? version, CancellationToken cancellationToken = default)
    {
        var which = version is null ? "" : " AND version = @version";
        (string, object)[] parameters = version is { } v ? [("team", team), ("name", name), ("version", (long)v)] : [("team", team), ("name", name)];
        await using var connection = await _connections.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(connection, transaction, $"DELETE FROM lantern_dataset_entries WHERE team = @team AND name = @name{which}",
            cancellationToken, parameters);
        var removed = await ExecuteAsync(connection, transaction, $"DELETE FROM lantern_datasets WHERE team = @team AND name = @name{which}",
            cancellationToken, parameters);
        await transaction.CommitAsync(cancellationToken);
        return removed;
    }

    public async Task<IReadOnlySet<string>> ImageHashesAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await _connections.OpenAsync(cancellationToken);
        await using var command = Command(connection, null, "SELECT DISTINCT image_sha256 FROM lantern_dataset_entries", []);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var hashes = new HashSet<string>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken)) hashes.Add(reader.GetString(0));
        return hashes;
    }

    public void Dispose() => _connections.Dispose();

    // ---- plumbing ----

    private static async Task<IReadOnlyList<DatasetRow>> ReadDatasetsAsync(DbConnection connection, DbTransaction? transaction, string sql,
        CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = Command(connection, transaction, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<DatasetRow>();
        while (await reader.ReadAsync(cancellationToken))
            rows.Add(new DatasetRow(reader.GetString(0), reader.GetString(1), Convert.ToInt32(reader.GetValue(2)), reader.GetString(3),
                Convert.ToInt32(reader.GetValue(4)), Convert.ToInt32(reader.GetValue(5)), reader.GetString(6), Convert.ToInt64(reader.GetValue(7))));
        return rows;
    }

    private static async Task<int> ExecuteAsync(DbConnection connection, DbTransaction? transaction, string sql,
        CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = Command(connection, transaction, sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql, (string Name, object Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }
        return command;
    }
}
