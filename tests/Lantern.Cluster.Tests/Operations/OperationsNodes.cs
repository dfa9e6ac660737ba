using System.Net;
using Lantern.Host;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Lantern.Cluster.Tests.Operations;

/// <summary>In-process nodes with an HTTP/1.1 port, and plain HTTP/1.1 reads of it, for the operations tests.</summary>
public static class OperationsNodes
{
    public static readonly TimeSpan Patience = TimeSpan.FromMinutes(1);

    public sealed record Node(WebApplication App, Uri Http);

    public static async Task<Node> StartAsync(NodeOptions options)
    {
        var app = LanternNode.Build(options with
        {
            GrpcPort = 0, HttpPort = options.HttpPort ?? 0, LogLevel = LogLevel.Warning, LogProvider = false,
            Worker = options.Worker with { ExecutionProvider = Lantern.Worker.Inference.ExecutionProviderPreference.Cpu },
        });
        await app.StartAsync();
        return new Node(app, LanternNode.HttpAddress(app)!);
    }

    /// <summary>A plain HTTP/1.1 client, as Prometheus and kubelet are.</summary>
    public static HttpClient Http1(Uri address) => new()
    {
        BaseAddress = address, DefaultRequestVersion = HttpVersion.Version11,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
    };

    public static async Task<Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus> GrpcHealthAsync(WebApplication app)
    {
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(LanternNode.GrpcAddress(app));
        var health = new Grpc.Health.V1.Health.HealthClient(channel);
        return (await health.CheckAsync(new Grpc.Health.V1.HealthCheckRequest { Service = "" })).Status;
    }

    public static Task WaitReadyAsync(Uri address) =>
        WaitUntilAsync(async () => (await Http1(address).GetAsync("/readyz")).StatusCode == HttpStatusCode.OK);

    public static async Task<string> ScrapeUntilAsync(Uri address, Func<string, bool> condition)
    {
        var http = Http1(address);
        string text = "";
        await WaitUntilAsync(async () => condition(text = await http.GetStringAsync("/metrics")));
        return text;
    }

    /// <summary>Polls a condition (an HTTP read) until it holds.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        using var deadline = new CancellationTokenSource(Patience);
        while (!await condition())
            await Task.Delay(20, deadline.Token);
    }
}
