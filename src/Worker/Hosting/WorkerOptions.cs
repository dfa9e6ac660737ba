using Lantern.Worker.Inference;

namespace Lantern.Worker.Hosting;

public sealed record WorkerOptions
{
    /// <summary>
    /// Worker actors on this node, each with its own ONNX Runtime sessions (e.g. one per GPU); 0: as many as suit the
    /// hardware (<see cref="ForHardware"/>).
    /// </summary>
    public int Workers { get; init; } = 1;

    /// <summary>
    /// Work items a worker holds at once: one running, the others queued locally so it never waits on the dispatcher.
    /// Three, so that when an item starts another is still queued behind it: the next lease, whose first batch the
    /// pipeline writes while this item's last batch runs (with two, the next lease is asked for only as an item ends).
    /// </summary>
    public int Capacity { get; init; } = 3;

    /// <summary>Largest batch per model run; models with a fixed batch dimension run one image at a time.</summary>
    public int MaxBatch { get; init; } = 32;

    /// <summary>
    /// The best batch of this node's models, configured (0: none). When set it is what the node reports (a job whose
    /// baseline it scores is planned with it unless the coordinator has a batch configured), and no sweep runs; jobs
    /// still run in the batch fixed when they were planned (JobSpec.eval_batch).
    /// </summary>
    public int Batch { get; init; }

    /// <summary>
    /// Measure each model's best batch when it is first loaded (<see cref="BatchSweep"/>: powers of two up to MaxBatch,
    /// about <see cref="SweepPerBatch"/> each) and report it in the log, /metrics and to the coordinator, which plans the
    /// jobs whose baselines this worker scores with it.
    /// </summary>
    public bool SweepBatch { get; init; }

    public TimeSpan SweepPerBatch { get; init; } = TimeSpan.FromMilliseconds(300);

    public ExecutionProviderPreference ExecutionProvider { get; init; } = ExecutionProviderPreference.Auto;

    /// <summary>
    /// Write the next batch's perturbed inputs (the rest of this item, or the next queued item's first batch) on another
    /// thread while the current batch runs, so the accelerator does not wait for the CPU between batches. Null (the
    /// default): as <see cref="PipelinesOn"/> decides for the hardware.
    /// </summary>
    public bool? Pipeline { get; init; }

    /// <summary>
    /// Whether the workers write ahead: <see cref="Pipeline"/> when set; else on CUDA, where the CPU is free while the
    /// device runs, and on a CPU only when the sessions' threads leave a core free. When they take every core (serve's
    /// layout, one single-threaded session per core), the write ahead runs on a core that is running inference: it
    /// gains no time, and costs a thread hand-off per batch and an input written in another core's cache.
    /// In-process on 2 cores, occlusion and LIME ran faster without it in 9 of the 12 rows of a full run and as fast in
    /// 1 (bench/RESULTS-batch.md as of aa7f534; ShuffleNetV2 fp32 LIME: 0.968 of raw, pipelined 0.860), and faster in
    /// 8 of 8 rows of two smaller runs; the next full run (127d2ed, a busier machine) was even: 3 rows faster each way
    /// by more than 1 %, 6 within 1 %.
    /// </summary>
    public bool PipelinesOn(bool runsOnCuda) =>
        Pipeline ?? (runsOnCuda || (long)Math.Max(1, Workers) * SessionThreads < Environment.ProcessorCount);

    /// <summary>ONNX Runtime intra-op threads per session; 0: <see cref="SessionThreads"/> shares this node's cores.</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>
    /// The intra-op threads each session runs with: <see cref="IntraOpThreads"/> when set, else the cores this process
    /// may use (Environment.ProcessorCount, which honours a container's CPU limit) shared among the node's worker actors.
    /// Not ONNX Runtime's own default, which ran one thread on a 2-core VM (raw MobileNetV2 int8 at 502 evaluations/s
    /// against 788 on two threads, bench/RESULTS-batch.md). The thread count does not change a score
    /// (Worker/WorkerLayoutTests).
    /// </summary>
    public int SessionThreads => IntraOpThreads > 0 ? IntraOpThreads : Math.Max(1, Environment.ProcessorCount / Math.Max(1, Workers));

    /// <summary>
    /// These options with <see cref="Workers"/> 0 made concrete for the inference device (`serve`'s default). On a CPU,
    /// one worker per core, each session one thread (or per <see cref="IntraOpThreads"/> cores when set): explanation
    /// jobs are thousands of independent evaluations, and sessions side by side scale where one session's threads
    /// meet at every operator and wait for the slowest (on 2 cores, ShuffleNetV2 ran no faster on two threads than on
    /// one, and a node's other threads preempt one of them at any moment; bench/RESULTS-batch.md). On CUDA, one worker:
    /// the device is the limit, and it fills with the batch.
    /// </summary>
    public WorkerOptions ForHardware(bool runsOnCuda)
    {
        if (Workers > 0) return this;
        if (runsOnCuda) return this with { Workers = 1 };
        var threads = Math.Max(1, IntraOpThreads);
        return this with { Workers = Math.Max(1, Environment.ProcessorCount / threads), IntraOpThreads = threads };
    }

    /// <summary>Memory budget of the loaded sessions (estimated as 3× each model's size); least recently used go first.</summary>
    public long SessionCacheBytes { get; init; } = 4L << 30;
    public int JobCacheSize { get; init; } = 8;
}
