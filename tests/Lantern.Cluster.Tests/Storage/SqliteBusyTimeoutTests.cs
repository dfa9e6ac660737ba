using Lantern.Cluster.Tests.Support;
using Lantern.Host;
using Lantern.Storage;
using LinqToDB.Data;
using Microsoft.Data.Sqlite;

namespace Lantern.Cluster.Tests.Storage;

/// <summary>
/// Every connection a node opens to its SQLite file waits for another connection's write inside SQLite (its busy
/// timeout), the journal's and snapshot store's included, instead of leaving it to Microsoft.Data.Sqlite's 150 ms
/// sleep between tries.
/// </summary>
public sealed class SqliteBusyTimeoutTests
{
    private static long BusyTimeoutOf(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA busy_timeout";
        return (long)command.ExecuteScalar()!;
    }

    [Fact]
    public void A_connection_Microsoft_Data_Sqlite_opens_has_no_busy_timeout_of_its_own()
    {
        // What the rest of this class relies on setting: were it set by default, nothing here would be needed.
        using var connection = new SqliteConnection($"Data Source={TestNode.TempDatabase()}");
        connection.Open();

        Assert.Equal(0, BusyTimeoutOf(connection));
    }

    [Fact]
    public async Task The_stores_connections_wait_for_the_lock_inside_SQLite()
    {
        var connectionString = $"Data Source={TestNode.TempDatabase()}";
        using var opened = SqliteBusyTimeout.Open(connectionString);
        using var connections = SqlConnections.Sqlite(connectionString);
        await using var shared = (SqliteConnection)await connections.OpenAsync(CancellationToken.None); // users, datasets

        Assert.Equal(SqliteBusyTimeout.Milliseconds, BusyTimeoutOf(opened));
        Assert.Equal(SqliteBusyTimeout.Milliseconds, BusyTimeoutOf(shared));
    }

    [Fact]
    public void The_journals_connections_wait_for_the_lock_inside_SQLite()
    {
        var database = NodeDatabase.For(new NodeOptions { DatabasePath = TestNode.TempDatabase() });
        using var journal = new DataConnection(database.JournalDataOptions());

        Assert.Equal(SqliteBusyTimeout.Milliseconds, journal.Execute<long>("PRAGMA busy_timeout"));
    }
}
