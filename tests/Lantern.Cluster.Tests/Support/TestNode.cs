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
/// A real Lantern node (all roles, SQLite file, gRPC on a free loopback port) started in the test process, with a
/// gRPC client to it. Disposing stops the node gracefully; the database file stays for a restart on the same file.
/// </summary>
public sealed class TestNode : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly WorkerMetrics _metrics;

    private TestNode(WebApplication app, string databasePath)
    {
        _app = app;
        _metrics = app.Services.GetRequiredService<WorkerMetrics>();
        System = app.Services.GetRequiredService<ActorSystem>();
        DatabasePath = databasePath;
        Address = LanternNode.GrpcAddress(app);
        Client = ExplainClient.Connect(Address);
    }

    public string DatabasePath { get; }
    public Uri Address { get; }
    public ExplainClient Client { get; }
    public Contracts.Api.Lantern.LanternClient Api => Client.Api;

    /// <summary>Model evaluations this node's workers have run (readable after the node stopped).</summary>
    public long Evaluations => _metrics.Evaluations;

    public ActorSystem System { get; }

    public static async Task<TestNode> StartAsync(string? databasePath = null, CoordinatorOptions? coordinator = null,
        WorkerOptions? worker = null)
    {
        var path = databasePath ?? TempDatabase();
        var app = LanternNode.Build(new NodeOptions
        {
            DatabasePath = path,
            GrpcPort = 0,
            LogLevel = LogLevel.Warning,
            Coordinator = coordinator ?? new CoordinatorOptions(),
            Worker = (worker ?? new WorkerOptions()) with { ExecutionProvider = ExecutionProviderPreference.Cpu },
        });
        await app.StartAsync();
        return new TestNode(app, path);
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
