using Lantern.Coordinator.Dispatch;

namespace Lantern.Coordinator.Hosting;

public sealed record CoordinatorOptions
{
    /// <summary>Perturbations per work item: small enough to spread a job over workers, large enough to batch well.</summary>
    public int WorkItemSize { get; init; } = 32;

    /// <summary>
    /// A job of fewer than this many items of <see cref="WorkItemSize"/> is split into this many smaller ones (at least
    /// JobState.SmallestShortJobItem evaluations each); 0 turns that off. Items are indivisible, so a job ends with its
    /// last item running while the other workers, done, wait for it: half an item each on average. A 729-window
    /// occlusion in items of 32 is 23 items, and on two workers its last one (25 windows) runs alone for 3 % of the
    /// job; in 61 items of 12, for 1 %. An item costs the coordinator about 0.1 ms (bench/RESULTS.md, items/s).
    /// </summary>
    public int ItemsPerShortJob { get; init; } = 64;

    /// <summary>
    /// The batch new jobs are evaluated in (persisted with each job, so every worker uses it); 0 = none: each job is
    /// planned when its baseline is scored, with that worker's best batch for the model (its --batch or its sweep's,
    /// lantern_worker_model_batch), else its largest within <see cref="WorkItemSize"/>. Work items are rounded up to a
    /// whole number of batches.
    /// </summary>
    public int EvalBatch { get; init; }

    /// <summary>How many of a job's work items sit at the dispatcher at once; bounds coordinator memory for huge jobs.</summary>
    public int OfferWindow { get; init; } = 64;

    public TimeSpan ReofferInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>A lease not answered in this time is re-issued to another worker.</summary>
    public TimeSpan LeaseTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>A lease younger than this is not freed for missing from its worker's report: its WorkLeased may be in flight.</summary>
    public TimeSpan LeaseReportGrace { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How the dispatcher shares workers between teams and users (by default equally).</summary>
    public FairShareWeights FairShare { get; init; } = FairShareWeights.Equal;

    public TimeSpan FinishedJobIdleTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// A job entity snapshots its state every this many scored work items, or every tenth of a larger job's items (and when
    /// its phase changes), then deletes the events and snapshots the new one supersedes: recovery replays at most that many
    /// items. 0 turns snapshots off.
    /// </summary>
    public int SnapshotEveryItems { get; init; } = 1000;

    /// <summary>At most about this many snapshots per job: see <see cref="SnapshotIntervalFor"/>.</summary>
    public const int SnapshotsPerJob = 10;

    /// <summary>
    /// Scored items between a job's snapshots: <see cref="SnapshotEveryItems"/>, or a tenth of the job when that is more.
    /// A snapshot holds the job's whole score buffer (it grows with the job), so a fixed interval would write a job of
    /// 10⁶ items' 128 MB buffer a thousand times; a tenth keeps the snapshot writes at about ten buffers per job, and
    /// recovery replays at most a tenth of the job.
    /// </summary>
    public int SnapshotIntervalFor(int workItemCount) =>
        SnapshotEveryItems <= 0 ? 0 : Math.Max(SnapshotEveryItems, workItemCount / SnapshotsPerJob);

    /// <summary>
    /// How long a job's first waiting score block may wait for others to share its journal write; 0 writes each as soon
    /// as the journal is free. A write is the coordinator's biggest cost per work item (SQL, a commit, the entity's
    /// bookkeeping and status answers after it: about a third of a one-node cluster's thread-pool CPU while small items
    /// stream in, bench/README.md), so a job writes at most about 1 / linger times a second however fast its items come.
    /// Blocks that finish the job's plan (or its current step), the baseline and failures are written at once: the wait
    /// never delays a job's end. Progress and early-stopping decisions lag by at most this much.
    /// </summary>
    public TimeSpan ScoreWriteLinger { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>How often a running job refreshes its row in the job index (listings show progress this fresh).</summary>
    public TimeSpan IndexRefreshInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The job index snapshots itself every this many persisted row changes.</summary>
    public int IndexSnapshotEvery { get; init; } = 500;

    /// <summary>
    /// How long finished jobs and unused uploads are kept (<c>serve --retention 30d</c>); null keeps everything.
    /// </summary>
    public TimeSpan? Retention { get; init; }

    /// <summary>
    /// How many images of a dataset job have their jobs running at once: enough to keep every worker busy on short
    /// image jobs (a Grad-CAM image is two work items), few enough that the first images finish early and that the
    /// coordinator holds only this many of a dataset job's image jobs in memory.
    /// </summary>
    public int DatasetImagesInFlight { get; init; } = 16;

    /// <summary>How often a dataset job asks its running image jobs how far they are.</summary>
    public TimeSpan DatasetPollInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How long a dataset job waits for an image job's answer before asking again.</summary>
    public TimeSpan DatasetAskTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the job index looks for what the retention lets go.</summary>
    public TimeSpan RetentionSweepInterval { get; init; } = TimeSpan.FromHours(1);
}
