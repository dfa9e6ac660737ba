using System.Collections.Immutable;

namespace Lantern.Gateway.Quotas;

/// <summary>
/// What one user may ask of a shared cluster. These are the node's defaults; an admin overrides any of them per user
/// or per team (<c>lantern users set-quota</c>), a user's own setting winning over their team's.
/// </summary>
public sealed record QuotaLimits
{
    public const string ConcurrentJobs = "concurrent_jobs";
    public const string QueuedEvaluations = "queued_evaluations";
    public const string EvaluationsPerJob = "evaluations_per_job";
    public const string ImagePixels = "image_pixels";
    public const string ModelBytes = "model_bytes";
    public const string TargetsPerJob = "targets_per_job";
    public const string UploadBytesPerDay = "upload_bytes_per_day";

    public static ImmutableArray<string> Names { get; } =
        [ConcurrentJobs, QueuedEvaluations, EvaluationsPerJob, ImagePixels, ModelBytes, TargetsPerJob, UploadBytesPerDay];

    /// <summary>Jobs queued or running at once.</summary>
    public long MaxConcurrentJobs { get; init; } = 8;

    /// <summary>Model evaluations not yet run over all of one user's unfinished jobs.</summary>
    public long MaxQueuedEvaluations { get; init; } = 20_000_000;

    public long MaxEvaluationsPerJob { get; init; } = 5_000_000;

    /// <summary>Width × height of an uploaded image, read from its header before a pixel is decoded (a 4k frame is 8.3 MP).</summary>
    public long MaxImagePixels { get; init; } = 40_000_000;

    public long MaxModelBytes { get; init; } = 1L << 30;

    /// <summary>Classes or regions explained in one job (each is a map at image resolution).</summary>
    public long MaxTargetsPerJob { get; init; } = 100;

    public long MaxUploadBytesPerDay { get; init; } = 10L << 30;

    public long this[string name] => name switch
    {
        ConcurrentJobs => MaxConcurrentJobs,
        QueuedEvaluations => MaxQueuedEvaluations,
        EvaluationsPerJob => MaxEvaluationsPerJob,
        ImagePixels => MaxImagePixels,
        ModelBytes => MaxModelBytes,
        TargetsPerJob => MaxTargetsPerJob,
        UploadBytesPerDay => MaxUploadBytesPerDay,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, $"no quota named '{name}'; quotas: {string.Join(", ", Names)}"),
    };

    public QuotaLimits With(string name, long value) => name switch
    {
        ConcurrentJobs => this with { MaxConcurrentJobs = value },
        QueuedEvaluations => this with { MaxQueuedEvaluations = value },
        EvaluationsPerJob => this with { MaxEvaluationsPerJob = value },
        ImagePixels => this with { MaxImagePixels = value },
        ModelBytes => this with { MaxModelBytes = value },
        TargetsPerJob => this with { MaxTargetsPerJob = value },
        UploadBytesPerDay => this with { MaxUploadBytesPerDay = value },
        _ => this,
    };
}
