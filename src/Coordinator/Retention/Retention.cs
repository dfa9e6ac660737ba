using Lantern.Contracts.Messages;
using Lantern.Storage;
using Lantern.Storage.Datasets;
using Lantern.Storage.Users;

namespace Lantern.Coordinator.Retention;

/// <summary>
/// <c>serve --retention</c>: finished jobs (done, failed or cancelled) older than the retention are deleted, as
/// DeleteJob deletes them, and uploaded models and images that no remaining job, no registered model and no dataset
/// uses, and that nobody has uploaded again within the retention, are deleted from the artifact store. Artifacts derived by the node
/// (segmentations, gradient models) are kept: they are small or rebuilt on demand from a kept model. An upload is kept
/// for at least the retention after it was last uploaded, so a job submitted by hash within that time finds it; a client
/// that uploads, waits longer than the retention and then submits by hash is told to upload again.
/// </summary>
public sealed class Retention(TimeSpan keepFor, IArtifactStore artifacts, IModelRegistry? registry, UserStore? users,
    IDatasetRegistry? datasets = null)
{
    /// <summary>At most this many jobs are deleted per sweep, so a first sweep over a long history does not flood the shards.</summary>
    public const int MaxJobsPerSweep = 500;

    private static readonly string[] UploadedKinds = ["model", "image"];

    public TimeSpan KeepFor { get; } = keepFor;

    public long CutoffUnixMs(DateTimeOffset now) => (now - KeepFor).ToUnixTimeMilliseconds();

    /// <summary>
    /// The finished jobs to delete (oldest first, at most <see cref="MaxJobsPerSweep"/>) and the uploads the other jobs
    /// still use.
    /// </summary>
    public static (IReadOnlyList<string> Expired, IReadOnlySet<string> InUse) Plan(IEnumerable<JobIndexRow> rows, long cutoffUnixMs)
    {
        var expired = new List<JobIndexRow>();
        var inUse = new HashSet<string>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            // A dataset job's image jobs go with it (its DeleteJob deletes them), never before it: its result names them.
            if (row.ParentJobId.Length == 0 && IsFinished(row.Phase) && row.FinishedUnixMs > 0 && row.FinishedUnixMs < cutoffUnixMs)
                expired.Add(row);
            else
            {
                inUse.Add(row.ModelSha256);
                inUse.Add(row.ImageSha256);
            }
        }
        var oldestFirst = expired.OrderBy(r => r.FinishedUnixMs).ToList();
        // Jobs left for the next sweep still hold their inputs.
        foreach (var row in oldestFirst.Skip(MaxJobsPerSweep))
        {
            inUse.Add(row.ModelSha256);
            inUse.Add(row.ImageSha256);
        }
        return ([.. oldestFirst.Take(MaxJobsPerSweep).Select(r => r.JobId)], inUse);
    }

    /// <summary>Deletes what the plan frees: the expired jobs' owner records and the unused uploads.</summary>
    /// <returns>How many artifacts were deleted.</returns>
    public async Task<int> DeleteUnusedAsync(IReadOnlyList<string> expiredJobs, IReadOnlySet<string> inUse, long cutoffUnixMs,
        CancellationToken cancellationToken)
    {
        if (users is not null)
            foreach (var jobId in expiredJobs) await users.ForgetJobAsync(jobId, cancellationToken);
        var keep = new HashSet<string>(inUse, StringComparer.Ordinal);
        if (registry is not null) keep.UnionWith(await registry.ModelHashesAsync(cancellationToken));
        if (datasets is not null) keep.UnionWith(await datasets.ImageHashesAsync(cancellationToken));
        return (await artifacts.DeleteUnusedAsync(UploadedKinds, cutoffUnixMs, keep, cancellationToken)).Count;
    }

    private static bool IsFinished(IndexedJobPhase phase) =>
        phase is IndexedJobPhase.Done or IndexedJobPhase.Failed or IndexedJobPhase.Cancelled;
}
