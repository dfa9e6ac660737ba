using Lantern.Cli.Client;
using Lantern.Gateway.Hosting;
using Lantern.Host;
using Lantern.Worker.Hosting;
using Lantern.Worker.Inference;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Lantern.Cluster.Tests.Clients;

/// <summary>A one-process node with its HTTP/1.1 port open, where the viewer is served, for the viewer's tests.</summary>
internal sealed class ViewerNode : IAsyncDisposable
{
    private ViewerNode(WebApplication app) => App = app;

    public WebApplication App { get; }

    /// <summary>Where the viewer is: <c>/viewer/</c> on this address.</summary>
    public Uri HttpAddress => LanternNode.HttpAddress(App)!;

    public ExplainClient Client(string? apiKey = null) => ExplainClient.Connect(LanternNode.GrpcAddress(App), apiKey);

    /// <param name="requireKeys">Whether the node's API (and so the viewer) needs API keys.</param>
    public static async Task<ViewerNode> StartAsync(bool requireKeys = false)
    {
        var app = LanternNode.Build(new NodeOptions
        {
            DatabasePath = Support.TestNode.TempDatabase(), GrpcPort = 0, HttpPort = 0, LogLevel = LogLevel.Warning, LogProvider = false,
            Worker = new WorkerOptions { ExecutionProvider = ExecutionProviderPreference.Cpu },
            Gateway = new GatewayOptions { RequireApiKey = requireKeys },
        });
        await app.StartAsync();
        return new ViewerNode(app);
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
