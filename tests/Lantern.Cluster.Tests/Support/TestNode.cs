using Akka.Actor;
using Lantern.Cli.Client;
using Lantern.Coordinator.Hosting;
using Lantern.Gateway.Hosting;
using Lantern.Storage.Users;
using Lantern.Host;
using Lantern.Worker.Hosting;
using Lantern.Worker.Inference;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lantern.Cluster.Tests.Support;

/// <summary>
/// A real Lantern node (all roles, SQLite file or PostgreSQL database, gRPC on a free loopback port) started in the
/// test process, with a gRPC client to it. Disposing stops the node gracefully; the database stays for a restart on it.
/// </summary>
public sealed class TestNode : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly WorkerMetrics _metrics;

    private TestNode(WebApplication app, TestDatabase database, string? apiKey)
    {
        _app = app;
        _metrics = app.Services.GetRequiredService<WorkerMetrics>();
        System = app.Services.GetRequiredService<ActorSystem>();
        Database = database;
        Address = LanternNode.GrpcAddress(app);
        Client = ExplainClient.Connect(Address, apiKey);
        Users = app.Services.GetRequiredService<UserStore>();
    }

    /// <summary>The node's users, keys, quotas and grants (its database).</summary>
    public UserStore Users { get; }

    /// <summary>A client of this node that sends <paramref name="apiKey"/> on every call.</summary>
    public ExplainClient ClientWith(string? apiKey) => ExplainClient.Connect(Address, apiKey);

    public TestDatabase Database { get; }

    /// <summary>The node's SQLite file (unused, and its directory absent, on PostgreSQL).</summary>
    public string DatabasePath => Database.SqlitePath;
    public Uri Address { get; }
    public ExplainClient Client { get; }
    public Contracts.Api.Lantern.LanternClient Api => Client.Api;

    /// <summary>Model evaluations this node's workers have run (readable after the node stopped).</summary>
    public long Evaluations => _metrics.Evaluations;

    /// <summary>Batches this node's workers wrote while the batch before them ran (pipelining), and then used.</summary>
    public long BatchesWrittenAhead => _metrics.BatchesWrittenAhead;

    /// <summary>Model runs this node's workers stopped with ONNX Runtime's terminate flag (their job was withdrawn).</summary>
    public long RunsTerminated => _metrics.RunsTerminated;

    public ActorSystem System { get; }

    /// <summary>The node's services (its decode budget, its stores).</summary>
    public IServiceProvider Services => _app.Services;

    /// <param name="gateway">Null runs the node open (no API keys), as every test did before users existed.</param>
    /// <param name="apiKey">The key <see cref="Client"/> sends.</param>
    public static async Task<TestNode> StartAsync(TestDatabase? database = null, CoordinatorOptions? coordinator = null,
        WorkerOptions? worker = null, GatewayOptions? gateway = null, string? apiKey = null)
    {
        database ??= TestDatabase.Sqlite();
        var app = LanternNode.Build(new NodeOptions
        {
            DatabasePath = database.SqlitePath,
            PostgresConnectionString = database.PostgresConnectionString,
            GrpcPort = 0,
            LogLevel = LogLevel.Warning,
            LogProvider = false, // tests that capture the console must not catch a node's "Loaded model" line
            Coordinator = coordinator ?? new CoordinatorOptions(),
            Worker = (worker ?? new WorkerOptions()) with { ExecutionProvider = ExecutionProviderPreference.Cpu },
            Gateway = gateway ?? new GatewayOptions(),
        });
        await app.StartAsync();
        return new TestNode(app, database, apiKey);
    }

    public static string TempDatabase() =>
        Path.Combine(Directory.CreateTempSubdirectory("lantern-test-").FullName, "lantern.db");

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>Where a test node persists: a fresh SQLite file, or a database on a <see cref="PostgresServer"/>.</summary>
public sealed record TestDatabase(string SqlitePath, string? PostgresConnectionString = null)
{
    public static TestDatabase Sqlite() => new(TestNode.TempDatabase());

    /// <remarks>
    /// The SQLite path points into a directory that does not exist, so a node that used SQLite by mistake would fail
    /// instead of passing a restart test on the wrong backend.
    /// </remarks>
    public static async Task<TestDatabase> PostgresAsync(PostgresServer server) =>
        new(Path.Combine(Path.GetTempPath(), $"lantern-absent-{Guid.NewGuid():N}", "unused.db"), await server.CreateDatabaseAsync());

    /// <summary>Rows of one persistent actor in an Akka.Persistence.Sql table (<c>journal</c> or <c>snapshot</c>).</summary>
    public async Task<long> RowsOfAsync(string table, string persistenceId)
    {
        await using System.Data.Common.DbConnection connection = PostgresConnectionString is { } postgres
            ? new Npgsql.NpgsqlConnection(postgres)
            : new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={SqlitePath};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT COUNT(*) FROM {table} WHERE persistence_id = @id";
        var id = command.CreateParameter();
        id.ParameterName = "@id";
        id.Value = persistenceId;
        command.Parameters.Add(id);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
