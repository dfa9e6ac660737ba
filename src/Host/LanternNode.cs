using Akka.Cluster;
using Akka.Cluster.Hosting;
using Akka.Cluster.Hosting.SBR;
using Akka.Hosting;
using Akka.Persistence.Sql.Hosting;
using Akka.Remote.Hosting;
using Lantern.Contracts.Cluster;
using Lantern.Contracts.Serialization;
using Lantern.Coordinator.Hosting;
using Lantern.Gateway.Hosting;
using Lantern.Host.Endpoints;
using Lantern.Host.Formation;
using Lantern.Host.Security;
using Lantern.Storage;
using Lantern.Storage.Datasets;
using Lantern.Viewer;
using Lantern.Worker.Artifacts;
using Lantern.Worker.Hosting;
using Lantern.Worker.Inference;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lantern.Host;

/// <summary>
/// Builds one Lantern node: an ASP.NET Core host with the gRPC gateway and an Akka.NET cluster member carrying the
/// requested roles. The local one-process mode is this same node with every role and no seeds.
/// </summary>
public static class LanternNode
{
    public static WebApplication Build(NodeOptions options)
    {
        if (options.Has(ClusterRoles.Worker) && options.Worker.Workers == 0)
            options = options with { Worker = options.Worker.ForHardware(ExecutionProviders.RunsOnCuda(options.Worker.ExecutionProvider)) };
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(options.LogLevel);
        // Which execution provider runs inference is worth one line even on a quiet node.
        if (options.LogProvider) builder.Logging.AddFilter(typeof(WorkEvaluator).FullName, LogLevel.Information);
        if (options.Embedded) builder.Services.AddSingleton<IHostLifetime, EmbeddedLifetime>();
        builder.AddNodeListeners(options);

        var database = NodeDatabase.For(options);
        if (options.UsesDatabase)
        {
            // Factory registrations, so the container disposes the stores (and a PostgreSQL store's connection pool).
            builder.Services.AddSingleton<IArtifactStore>(_ => database.CreateArtifactStore());
            builder.Services.AddSingleton<IModelRegistry>(_ => database.CreateModelRegistry());
            builder.Services.AddSingleton<IDatasetRegistry>(_ => database.CreateDatasetRegistry());
            builder.Services.AddSingleton(_ => database.CreateUserStore());
            // The same store, also the memo of built gradient models and reusable results (same database, own table).
            builder.Services.AddSingleton(services => (IMemoStore)services.GetRequiredService<IArtifactStore>());
        }
        else
            builder.Services.AddSingleton<IArtifactStore>(services =>
                new ClusterArtifactStore(services.GetRequiredService<Akka.Actor.ActorSystem>(), options.CacheDirectory));
        builder.Services.AddGateway(options.Gateway);
        if (options.Has(ClusterRoles.Worker)) builder.Services.AddWorkerServices(options.Worker);
        builder.Services.AddAkka(options.SystemName, akka => ConfigureCluster(akka, options, database));

        var app = builder.Build();
        if (!options.Gateway.RequireApiKey && options.Has(ClusterRoles.Gateway) && options.WarnWhenOpen)
            app.Logger.LogWarning("AUTHENTICATION IS OFF: this node's gateway answers anyone who reaches {Host}:{Port} without an API key, " +
                                  "with every job and artifact visible to all. Use it for one person on localhost only.", options.GrpcHost, options.GrpcPort);
        app.MapGateway();
        app.MapNodeEndpoints();
        if (options.Has(ClusterRoles.Gateway)) app.MapViewer(() => GrpcAddress(app), OwnCertificateHandler(options.GrpcTls)); // pages call this node's own gRPC API
        app.UseBootstrapContactPoint(options);
        return app;
    }

    /// <summary>
    /// Only the Admin service over the node's database, with no cluster: what <c>lantern users</c> without --gateway
    /// starts for one command (the first admin is made this way). Listens on a loopback port.
    /// </summary>
    public static WebApplication BuildAdmin(NodeOptions options)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var listeners = new NodeEndpoints.Listeners(); // so that GrpcAddress finds the port it bound
        builder.Services.AddSingleton(listeners);
        builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.Listen(IPAddress.Loopback, options.GrpcPort, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                listeners.Grpc = listen;
            }));
        var database = NodeDatabase.For(options);
        builder.Services.AddSingleton(_ => database.CreateUserStore());
        builder.Services.AddGatewayAdmin(options.Gateway);
        var app = builder.Build();
        app.MapGatewayAdmin();
        return app;
    }

    /// <summary>The gRPC address the node listens on, once started (resolves port 0).</summary>
    public static Uri GrpcAddress(WebApplication app)
    {
        var listeners = app.Services.GetRequiredService<NodeEndpoints.Listeners>();
        return NodeEndpoints.AddressOf(listeners.Grpc!, listeners.GrpcTls);
    }

    /// <summary>The HTTP/1.1 address (/metrics, /healthz, /readyz) once started, or null when the node opened none.</summary>
    public static Uri? HttpAddress(WebApplication app) =>
        app.Services.GetRequiredService<NodeEndpoints.Listeners>().Http is { } http ? NodeEndpoints.AddressOf(http) : null;

    /// <summary>This node's cluster address (akka.tcp://lantern@host:port), what other nodes name as a seed.</summary>
    public static string ClusterAddress(WebApplication app) =>
        Cluster.Get(app.Services.GetRequiredService<Akka.Actor.ActorSystem>()).SelfAddress.ToString();

    private static void ConfigureCluster(AkkaConfigurationBuilder akka, NodeOptions options, NodeDatabase database)
    {
        akka.ConfigureLoggers(loggers =>
            {
                loggers.LogLevel = ToAkka(options.LogLevel);
                loggers.ClearLoggers();
                loggers.AddLoggerFactory();
            })
            // Akka.NET 1.5.7x logs a false "failed to find an associated singleton" on every proxy start
            // (akkadotnet/akka.net#8568); a singleton that is really missing shows as work that never starts.
            .AddHocon("akka.cluster.singleton-proxy.log-singleton-identification-failure = off", HoconAddMode.Prepend)
            // A gradient method's work item carries one model-input-sized map per target (224x224 floats = 196 KB each),
            // above Akka.Remote's 128 KB default frame.
            .AddHocon("""
                akka.remote.dot-netty.tcp.maximum-frame-size = 16 MiB
                akka.remote.dot-netty.tcp.send-buffer-size = 32 MiB
                akka.remote.dot-netty.tcp.receive-buffer-size = 32 MiB
                """, HoconAddMode.Prepend)
            // An embedded node is stopped by its program; at process exit the actor system's own shutdown hook would
            // only hold the exit up (a CLI interrupted by Ctrl-C must return at once).
            .AddHocon(options.Embedded ? "akka.coordinated-shutdown.run-by-clr-shutdown-hook = off" : "", HoconAddMode.Prepend)
            .WithRemoting(ClusterTls.Remoting(options.ClusterHost, options.ClusterPort, options.ClusterTls))
            .WithClustering(new ClusterOptions
            {
                Roles = [.. options.Roles],
                SeedNodes = [.. options.SeedNodes],
                // Keep the side with the oldest coordinator: jobs live there. A lone coordinator stays up.
                SplitBrainResolver = new KeepOldestOption { Role = ClusterRoles.Coordinator, DownIfAlone = false },
            })
            .WithCustomSerializer("lantern-protobuf", ProtobufMessageSerializer.BoundTypes,
                system => new ProtobufMessageSerializer(system))
            .WithSqlPersistence(database.JournalDataOptions());
        // (Worker-only nodes configure the journal too but never use it: no persistent actor runs there.)

        if (options.Has(ClusterRoles.Coordinator))
        {
            akka.AddCoordinatorRole(options.Coordinator);
        }
        else
        {
            akka.AddJobRegionProxy()
                .WithSingletonProxy<DispatcherKey>("dispatcher", new ClusterSingletonOptions { Role = ClusterRoles.Coordinator });
        }

        if (options.Has(ClusterRoles.Worker)) akka.AddWorkerRole(options.Worker);

        akka.WithFormation(options);
    }

    /// <summary>The viewer calls this node's own gRPC port: over TLS it trusts exactly the certificate the node serves.</summary>
    private static SocketsHttpHandler? OwnCertificateHandler(GrpcTlsOptions? tls)
    {
        if (tls is null) return null;
        using var own = X509Certificate2.CreateFromPemFile(tls.CertificatePath, tls.KeyPath);
        var raw = own.RawData;
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            certificate is not null && certificate.GetRawCertData().AsSpan().SequenceEqual(raw);
        return handler;
    }

    /// <summary>No console lifetime: Ctrl-C and process exit belong to the program that embeds the node.</summary>
    private sealed class EmbeddedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private static Akka.Event.LogLevel ToAkka(LogLevel level) => level switch
    {
        LogLevel.Trace or LogLevel.Debug => Akka.Event.LogLevel.DebugLevel,
        LogLevel.Information => Akka.Event.LogLevel.InfoLevel,
        LogLevel.Warning => Akka.Event.LogLevel.WarningLevel,
        _ => Akka.Event.LogLevel.ErrorLevel,
    };
}
