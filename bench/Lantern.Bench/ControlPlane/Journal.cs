using Microsoft.Data.Sqlite;

namespace Lantern.Bench.ControlPlane;

/// <summary>Row counts of a node's SQLite file, read beside the running node (WAL mode lets a reader in).</summary>
public static class Journal
{
    /// <summary>Rows of every Akka.Persistence table (journal, snapshots, tags, metadata); artifacts are left out.</summary>
    public static IReadOnlyDictionary<string, long> Rows(string database)
    {
        var counts = new Dictionary<string, long>();
        using var connection = new SqliteConnection($"Data Source={database};Mode=ReadOnly;Pooling=False");
        connection.Open();
        var tables = new List<string>();
        using (var list = connection.CreateCommand())
        {
            list.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'";
            using var reader = list.ExecuteReader();
            while (reader.Read()) tables.Add(reader.GetString(0));
        }
        foreach (var table in tables.Where(t => !t.Contains("artifact", StringComparison.OrdinalIgnoreCase)))
        {
            using var count = connection.CreateCommand();
            count.CommandText = $"SELECT COUNT(*) FROM \"{table}\"";
            counts[table] = (long)count.ExecuteScalar()!;
        }
        return counts;
    }

    /// <summary>Rows of the event journal (Akka.Persistence.Sql's <c>journal</c> table), 0 when it is not there yet.</summary>
    public static long Events(IReadOnlyDictionary<string, long> rows) => rows.GetValueOrDefault("journal");

    public static long Snapshots(IReadOnlyDictionary<string, long> rows) => rows.GetValueOrDefault("snapshot");

    public static string Describe(IReadOnlyDictionary<string, long> rows) =>
        string.Join(", ", rows.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Key} {r.Value:N0}"));
}
