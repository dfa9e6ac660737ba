using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Lantern.Host.Endpoints;

/// <summary>
/// What an operator's tooling reads from a node: <c>/metrics</c> (Prometheus text, prometheus-net), <c>/healthz</c>
/// (alive), <c>/readyz</c> (Up and its roles ready) and <c>grpc.health.v1.Health</c> (the same checks). The HTTP paths
/// answer on every listener; the HTTP/1.1 port exists for scrapers and kubelet probes, which do not speak h2c.
/// </summary>
public static class NodeEndpoints
{
    public const string MetricsPath = "/metrics";
    public const string LivePath = "/healthz";
    public const string ReadyPath = "/readyz";

    /// <summary>The node's listeners, kept to read the ports they bound (port 0 picks one at start).</summary>
    public sealed class Listeners
    {
        public ListenOptions? Grpc { get; set; }
        public bool GrpcTls { get; set; }
        public ListenOptions? Http { get; set; }
    }

    /// <summary>gRPC (h2c) on the gRPC port, and HTTP/1.1 on the HTTP port when one is configured.</summary>
    public static WebApplicationBuilder AddNodeListeners(this WebApplicationBuilder builder, NodeOptions options)
    {
        // A node probed before it joins would log every failed check as an error; /readyz itself says why.
        builder.Logging.AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.Critical);
        var listeners = new Listeners();
        builder.Services.AddSingleton(listeners);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Parse(options.GrpcHost), options.GrpcPort, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                listeners.Grpc = listen;
                if (options.GrpcTls is { } tls)
                {
                    listen.UseHttps(X509Certificate2.CreateFromPemFile(tls.CertificatePath, tls.KeyPath));
                    listeners.GrpcTls = true;
                }
            });
            if (options.HttpPort is { } httpPort)
                kestrel.Listen(IPAddress.Parse(options.HttpHost ?? options.GrpcHost), httpPort, listen =>
                {
                    listen.Protocols = HttpProtocols.Http1;
                    listeners.Http = listen;
                });
        });
        builder.Services.AddNodeMetrics().AddNodeHealth(options).AddGrpcHealthChecks(health =>
        {
            // The default service ("") and "lantern.v1.Lantern" answer SERVING exactly when /readyz does.
            health.Services.Map("", check => check.Tags.Contains(NodeHealth.ReadyTag));
            health.Services.Map("lantern.v1.Lantern", check => check.Tags.Contains(NodeHealth.ReadyTag));
        });
        return builder;
    }

    public static IEndpointRouteBuilder MapNodeEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapMetrics(MetricsPath, endpoints.ServiceProvider.GetRequiredService<CollectorRegistry>());
        endpoints.MapHealthChecks(LivePath, new HealthCheckOptions { Predicate = _ => false });
        endpoints.MapHealthChecks(ReadyPath, new HealthCheckOptions { Predicate = check => check.Tags.Contains(NodeHealth.ReadyTag) });
        endpoints.MapGrpcHealthChecksService();
        return endpoints;
    }

    /// <summary>The address a listener bound, with a wildcard host replaced by loopback (for clients on this machine).</summary>
    internal static Uri AddressOf(ListenOptions listen, bool https = false)
    {
        var ip = listen.IPEndPoint ?? throw new InvalidOperationException("the listener is not bound to an IP endpoint");
        var host = ip.Address.Equals(IPAddress.Any) || ip.Address.Equals(IPAddress.IPv6Any) ? IPAddress.Loopback : ip.Address;
        return new Uri($"{(https ? "https" : "http")}://{new IPEndPoint(host, ip.Port)}");
    }
}
