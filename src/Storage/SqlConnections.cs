using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Lantern.Storage;

/// <summary>
/// Opens connections to SQLite or PostgreSQL for the stores whose SQL is the subset both share (users, datasets), so
/// one class serves both databases.
/// </summary>
public sealed class SqlConnections : IDisposable
{
    private readonly Func<CancellationToken, ValueTask<DbConnection>> _open;
    private readonly NpgsqlDataSource? _postgres;

    private SqlConnections(Func<CancellationToken, ValueTask<DbConnection>> open, NpgsqlDataSource? postgres)
    {
        _open = open;
        _postgres = postgres;
    }

    public static SqlConnections Sqlite(string connectionString) => new(async cancellationToken =>
    {
        var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        SqliteBusyTimeout.Apply(connection);
        return connection;
    }, null);

    public static SqlConnections Postgres(string connectionString)
    {
        var source = NpgsqlDataSource.Create(connectionString);
        return new SqlConnections(async cancellationToken => await source.OpenConnectionAsync(cancellationToken), source);
    }

    public ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken) => _open(cancellationToken);

    /// <summary>Runs the store's <c>CREATE … IF NOT EXISTS</c> statements at start-up (from a constructor, so blocking).</summary>
    public void CreateTables(IEnumerable<string> statements)
    {
        using var connection = _open(CancellationToken.None).AsTask().GetAwaiter().GetResult();
        foreach (var sql in statements)
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            try
            {
                command.ExecuteNonQuery();
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DuplicateTable)
            {
                // Two nodes starting together on an empty PostgreSQL database: IF NOT EXISTS is not atomic there.
            }
        }
    }

    public void Dispose() => _postgres?.Dispose();
}
