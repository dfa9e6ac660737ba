using Microsoft.Data.Sqlite;

namespace Lantern.Storage;

/// <summary>
/// A SQLite connection that finds the database locked by another connection's write waits for it inside SQLite (whose
/// busy handler tries again after 1, 2, 5, 10… ms) instead of failing with SQLITE_BUSY, which Microsoft.Data.Sqlite
/// answers by sleeping 150 ms before it tries again. The node's journal, snapshot store and stores all write to the one
/// database file through connections of their own, so their writes meet: a job's first score block waited out those
/// 150 ms behind the snapshot taken when the job was accepted, and its clean-up, with every worker idle (about 7 % of a
/// 2-second job).
/// </summary>
public static class SqliteBusyTimeout
{
    /// <summary>As long as Microsoft.Data.Sqlite's default command timeout: a write still fails after it, not sooner.</summary>
    public const int Milliseconds = 30_000;

    public static void Apply(SqliteConnection connection)
    {
        var rc = SQLitePCL.raw.sqlite3_busy_timeout(connection.Handle, Milliseconds);
        if (rc != SQLitePCL.raw.SQLITE_OK) throw new SqliteException($"setting the busy timeout failed (SQLite error {rc})", rc);
    }

    /// <summary>Opens a connection with the busy timeout set.</summary>
    public static SqliteConnection Open(string connectionString)
    {
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        Apply(connection);
        return connection;
    }
}
