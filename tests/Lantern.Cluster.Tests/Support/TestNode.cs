using Akka.Actor;
using Lantern.Cli.Client;
using Lantern.Coordinator.Hosting;
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

    private TestNode(WebApplication app, TestDatabase database)
    {
        _app = app;
        _metrics = app.Services.GetRequiredService<WorkerMetrics>();
        System = app.Services.GetRequiredService<ActorSystem>();
        Database = database;
        Address = LanternNode.GrpcAddress(app);
        Client = ExplainClient.Connect(Address);
    }

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

    public static async Task<TestNode> StartAsync(TestDatabase? database = null, CoordinatorOptions? coordinator = null,
        WorkerOptions? worker = null)
    {
        database ??= TestDatabase.Sqlite();
        var app = LanternNode.Build(new NodeOptions
        {
            DatabasePath = database.SqlitePath,
            PostgresConnectionString = database.PostgresConnectionString,
            GrpcPort = 0,
            LogLevel = LogLevel.Warning,
            Coordinator = coordinator ?? new CoordinatorOptions(),
            Worker = (worker ?? new WorkerOptions()) with { ExecutionProvider = ExecutionProviderPreference.Cpu },
        });
        await app.StartAsync();
        return new TestNode(app, database);
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
}
