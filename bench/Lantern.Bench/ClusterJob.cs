using System.Diagnostics;
using Lantern.Cli.Client;
using Lantern.Host;
using Lantern.Methods;
using Lantern.Worker.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Lantern.Bench;

/// <summary>
/// The whole system: a one-node cluster in this process (gateway, coordinator, worker, SQLite journal in a fresh
/// temporary file) driven through its public gRPC API by the CLI's own client. Any method: the request decides.
/// </summary>
public sealed class ClusterJob : IAsyncDisposable
{
    private readonly WebApplication _node;
    private readonly ExplainClient _client;
    private readonly string _database;

    private ClusterJob(WebApplication node, ExplainClient client, string database)
    {
        _node = node;
        _client = client;
        _database = database;
    }

    public static async Task<ClusterJob> StartAsync(WorkerOptions worker)
    {
        var database = Path.Combine(Path.GetTempPath(), $"lantern-bench-{Guid.NewGuid():N}.db");
        var node = LanternNode.Build(new NodeOptions
        {
            DatabasePath = database, GrpcPort = 0, LogLevel = LogLevel.Warning, Worker = worker,
        });
        await node.StartAsync();
        return new ClusterJob(node, ExplainClient.Connect(LanternNode.GrpcAddress(node)), database);
    }

    /// <summary>
    /// Runs the job twice and times the second: the first loads the model into the worker's session cache, which a
    /// serving cluster has already done. Wall time runs from the start of the upload to the fetched result.
    /// </summary>
    public async Task<Measurement> MeasureAsync(BenchJob job)
    {
        await RunAsync(job);
        var clock = Stopwatch.StartNew();
        var result = await RunAsync(job);
        clock.Stop();
        var progress = result.Progress;
        var jobSeconds = (progress.FinishedUnixMs - progress.SubmittedUnixMs) / 1000.0;
        // A feature-based method's wall time also holds the gateway's segmentation, which it computes on every submission.
        var segmentation = MethodCatalog.NeedsSegmentation(job.Spec) ? " + gateway segmentation" : "";
        return new Measurement(job.ModelName, "cluster", progress.Evaluations, clock.Elapsed.TotalSeconds,
            Measurement.PeakRssNow(), Method: job.Method.Name,
            Detail: $"gRPC + Akka + SQLite{segmentation}; job entity's own submit-to-finish {jobSeconds:F2} s");
    }

    private Task<Contracts.Api.JobResult> RunAsync(BenchJob job) =>
        _client.RunAsync(job.Submit.Clone(), job.ModelBytes, job.ModelName, job.ImageBytes, job.ImageName, _ => { });

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _node.StopAsync();
        await _node.DisposeAsync();
        foreach (var suffix in new[] { "", "-wal", "-shm" })
            File.Delete(_database + suffix);
    }
}
