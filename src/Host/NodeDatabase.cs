using System.Data.Common;
using Lantern.Storage;
using Lantern.Storage.Datasets;
using Lantern.Storage.Users;
using LinqToDB;
using LinqToDB.Interceptors;
using Microsoft.Data.Sqlite;

namespace Lantern.Host;

/// <summary>
/// Where a node persists its job journal, snapshots and artifacts: PostgreSQL when a connection string is configured,
/// otherwise the SQLite file. The one place that knows the choice; the rest of the node takes it from here.
/// </summary>
public sealed record NodeDatabase(string ConnectionString, string ProviderName)
{
    public static NodeDatabase For(NodeOptions options) => options.PostgresConnectionString is { Length: > 0 } postgres
        ? new NodeDatabase(postgres, LinqToDB.ProviderName.PostgreSQL15)
        : new NodeDatabase($"Data Source={Path.GetFullPath(options.DatabasePath)};Pooling=True", LinqToDB.ProviderName.SQLiteMS);

    public bool IsPostgres => ProviderName == LinqToDB.ProviderName.PostgreSQL15;

    /// <summary>
    /// How the journal and snapshot store connect (linq2db): to SQLite with the busy timeout set on every connection
    /// they open (<see cref="SqliteBusyTimeout"/>), as the node's own stores set it.
    /// </summary>
    public DataOptions JournalDataOptions()
    {
        var options = new DataOptions().UseConnectionString(ProviderName, ConnectionString);
        return IsPostgres ? options : options.UseInterceptor(new SqliteBusyTimeoutInterceptor());
    }

    private sealed class SqliteBusyTimeoutInterceptor : ConnectionInterceptor
    {
        public override void ConnectionOpened(ConnectionEventData eventData, DbConnection connection) =>
            SqliteBusyTimeout.Apply((SqliteConnection)connection);

        public override Task ConnectionOpenedAsync(ConnectionEventData eventData, DbConnection connection,
            CancellationToken cancellationToken)
        {
            ConnectionOpened(eventData, connection);
            return Task.CompletedTask;
        }
    }

    /// <summary>Opens (and creates the table of) the artifact store in the same database as the journal.</summary>
    public IArtifactStore CreateArtifactStore() => IsPostgres
        ? new PostgresArtifactStore(ConnectionString)
        : new SqliteArtifactStore(ConnectionString);

    /// <summary>Opens (and creates the table of) the model registry in the same database.</summary>
    public IModelRegistry CreateModelRegistry() => IsPostgres
        ? new PostgresModelRegistry(ConnectionString)
        : new SqliteModelRegistry(ConnectionString);

    /// <summary>Opens (and creates the tables of) the dataset registry in the same database.</summary>
    public DatasetRegistry CreateDatasetRegistry() => IsPostgres
        ? DatasetRegistry.Postgres(ConnectionString)
        : DatasetRegistry.Sqlite(ConnectionString);

    /// <summary>Opens (and creates the tables of) the users, keys, quotas and grants in the same database.</summary>
    public UserStore CreateUserStore() => IsPostgres ? UserStore.Postgres(ConnectionString) : UserStore.Sqlite(ConnectionString);
}
