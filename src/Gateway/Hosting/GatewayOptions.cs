using Lantern.Gateway.Quotas;

namespace Lantern.Gateway.Hosting;

public sealed record GatewayOptions
{
    /// <summary>Hard limit on an image upload's bytes (its pixels are bounded by the image_pixels quota).</summary>
    public long MaxImageBytes { get; init; } = 100L << 20;

    /// <summary>Every caller needs an API key (<c>lantern serve</c>); off, the node is open to whoever reaches it.</summary>
    public bool RequireApiKey { get; init; }

    /// <summary>Each user's defaults; admins override them per user or team.</summary>
    public QuotaLimits Quotas { get; init; } = new();

    /// <summary>
    /// Bytes of decoded pixels that uploads and submits on this gateway may hold at once (an RGBA frame while decoding
    /// plus the float image): a request that would pass it waits for others to finish, and is refused after
    /// <see cref="DecodeWait"/>.
    /// </summary>
    public long DecodeMemoryBytes { get; init; } = 2L << 30;

    public TimeSpan DecodeWait { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan AskTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often a progress stream looks at its job's work items: an ask its entity holds this long, or less when the job's
    /// state changes, so that a client learns at once that its job finished (polled at 200 ms, learning it late was
    /// ~3% of a 3-second job's end-to-end time).
    /// </summary>
    public TimeSpan WatchInterval { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>WatchJob sends the job's progress at least this often while it runs, even when no work item finished.</summary>
    public TimeSpan WatchHeartbeat { get; init; } = TimeSpan.FromSeconds(1);
}
