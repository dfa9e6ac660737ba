using System.Security.Cryptography;
using System.Text;
using Lantern.Host;
using Lantern.Worker.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Lantern.Cli.Local;

/// <summary>
/// The node behind <c>lantern local run</c>: the same one-node cluster the in-process explain starts (every role, loopback,
/// no API keys, so every caller is the open caller as before), kept running between commands. Every request but the
/// health checks must carry <c>authorization: Bearer KEY</c> with the key of its record (readable by this user only);
/// the node stops itself once no request has been in flight for its idle timeout.
/// </summary>
public static class LocalNodeHost
{
    public static async Task RunAsync(NodeOptions options, string stateDirectory, TimeSpan idleTimeout, TextWriter log, CancellationToken cancellationToken)
    {
        var key = LocalNodeRecord.NewKey();
        var pid = Environment.ProcessId;
        await using var app = LanternNode.Build(options);
        var activity = new Activity();
        app.Use(async (context, next) =>
        {
            if (!Authorized(context.Request, key))
            {
                await RefuseAsync(context);
                return;
            }
            activity.Begin();
            try
            {
                await next(context);
            }
            finally
            {
                activity.End();
            }
        });
        await app.StartAsync(cancellationToken);
        try
        {
            var record = new LocalNodeRecord(pid, LanternNode.GrpcAddress(app).ToString(), key, LocalNodeRecord.CurrentBuild(),
                LocalNodeLauncher.Fingerprint(options), await ProvidersAsync(app, cancellationToken), idleTimeout.TotalSeconds,
                DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            record.Write(stateDirectory);
            log.WriteLine($"Lantern local node (pid {pid}) serving gRPC on {record.Address} for this user; stops after {idleTimeout.TotalSeconds:0.###} s idle");
            log.Flush();
            var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
            FileStream? startLock = null;
            try
            {
                using var stopping = CancellationTokenSource.CreateLinkedTokenSource(lifetime.ApplicationStopping, cancellationToken);
                startLock = await WaitIdleAsync(activity, idleTimeout, stateDirectory, stopping.Token);
                if (startLock is not null)
                {
                    // Idle: the record goes first, under the start lock, so no command finds a node that is stopping.
                    LocalNodeRecord.RemoveIfOwnedBy(stateDirectory, pid);
                    log.WriteLine($"idle for {idleTimeout.TotalSeconds:0.###} s: stopping");
                    log.Flush();
                }
                await app.StopAsync(CancellationToken.None);
            }
            finally
            {
                startLock?.Dispose(); // after the node stopped: a command that starts the next node waits for this one to let go of the database
            }
        }
        finally
        {
            LocalNodeRecord.RemoveIfOwnedBy(stateDirectory, pid);
        }
    }

    /// <summary>
    /// Returns the held start lock once the node has had no request in flight for <paramref name="idleTimeout"/>, or null
    /// when the node is stopped otherwise (SIGTERM, <c>lantern local stop</c>). A command holds the start lock from finding
    /// the node until its job is submitted, so the node cannot stop between the two.
    /// </summary>
    private static async Task<FileStream?> WaitIdleAsync(Activity activity, TimeSpan idleTimeout, string stateDirectory, CancellationToken stopping)
    {
        var tick = TimeSpan.FromTicks(Math.Clamp(idleTimeout.Ticks / 4, TimeSpan.FromMilliseconds(50).Ticks, TimeSpan.FromSeconds(5).Ticks));
        try
        {
            while (true)
            {
                await Task.Delay(tick, stopping);
                if (activity.IdleFor < idleTimeout || LocalNodeLauncher.TryLock(stateDirectory) is not { } held) continue;
                if (activity.IdleFor >= idleTimeout) return held;
                held.Dispose();
            }
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>The worker's execution provider, for the one grey line a command prints (the worker reports it as it starts).</summary>
    private static async Task<IReadOnlyList<string>> ProvidersAsync(WebApplication app, CancellationToken cancellationToken)
    {
        var evaluators = app.Services.GetService<WorkEvaluators>();
        for (var i = 0; i < 200 && evaluators is not null; i++)
        {
            if (evaluators.Providers is { Count: > 0 } providers) return providers;
            await Task.Delay(50, cancellationToken);
        }
        return [];
    }

    /// <summary>Health checks answer anyone (they reveal nothing); everything else needs this node's key.</summary>
    private static bool Authorized(HttpRequest request, string key)
    {
        if (request.Path.StartsWithSegments("/grpc.health.v1.Health") || request.Path == "/healthz") return true;
        var header = request.Headers.Authorization.ToString();
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header), Encoding.UTF8.GetBytes($"Bearer {key}"));
    }

    /// <summary>A gRPC caller gets UNAUTHENTICATED (a trailers-only response), any other 401.</summary>
    private static Task RefuseAsync(HttpContext context)
    {
        if (context.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) == true)
        {
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/grpc";
            context.Response.Headers["grpc-status"] = "16";
            context.Response.Headers["grpc-message"] = Uri.EscapeDataString("this local node answers only its own user: the key in its node.json is missing or wrong");
            return Task.CompletedTask;
        }
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        return Task.CompletedTask;
    }

    /// <summary>Requests in flight and when the last one ended: a progress stream is in flight for as long as its job runs.</summary>
    private sealed class Activity
    {
        private int _inFlight;
        private long _lastEnded = Environment.TickCount64;

        public void Begin() => Interlocked.Increment(ref _inFlight);

        public void End()
        {
            Interlocked.Exchange(ref _lastEnded, Environment.TickCount64);
            Interlocked.Decrement(ref _inFlight);
        }

        public TimeSpan IdleFor => Volatile.Read(ref _inFlight) > 0 ? TimeSpan.Zero
            : TimeSpan.FromMilliseconds(Environment.TickCount64 - Interlocked.Read(ref _lastEnded));
    }
}
