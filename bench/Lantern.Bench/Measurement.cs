namespace Lantern.Bench;

/// <summary>
/// One measured figure: how many model evaluations a path ran in how many seconds, and the process's peak resident
/// memory during it (<see cref="RssSampler"/>). <paramref name="Batch"/> is the batch size of a raw row; <paramref name="Method"/> the explanation method of an
/// explanation row (raw rows run no method). <paramref name="Error"/>: for an approximate method (coarse-to-fine occlusion),
/// how far its maps are from the exact ones. <paramref name="RawNearby"/>: raw evals/s at the best batch size, the mean of the figures
/// measured right before and right after this row.
/// </summary>
/// <para><paramref name="NearbyRatios"/>: with interleaved measurement (raw, row, raw, row, …, raw) the row's evals/s over the
/// mean of the raw figures either side of it, one per pair; the row reports their median and their spread.
/// <paramref name="RawBeforeRatios"/>: the same rows over the raw figure before each alone (how runs before 2026-12-06
/// 05:00 were reported), for comparison.</para>
/// <para><paramref name="ComputeSeconds"/>: cluster and gRPC rows, the seconds the node's worker spent inside the job's work
/// items (WorkerMetrics.BusySeconds: writing inputs, running the model, reading scores; the worker's per-job preparation
/// included). The rest of the row's wall time is the job's fixed cost: submit, planning, messages and leases, the journal,
/// assembly, and on gRPC rows upload, watch and fetch. <paramref name="FixedRepeats"/>: that fixed cost in each interleaved
/// repeat; the row reports their median. <paramref name="ReusedSeconds"/>: gRPC rows, the wall time of the same request
/// again without no_cache, which the finished job's stored result answers.</para>
/// <para><paramref name="JobBatch"/>: explanation rows, the batch the job was planned with (JobSpec.eval_batch);
/// <paramref name="JobBatchRatios"/>: per interleaved pair, evals/s over raw at that batch, measured right after the row
/// (the pair's raw figure when it is the best batch), so that the gap to the best raw batch splits into what the batch
/// choice costs and what the path costs at that batch.</para>
/// <para><paramref name="Cpu"/>: in-process, cluster and gRPC rows, the CPU the process used during the timed part, in all
/// and in the workers' inference threads (summed over the interleaved repeats). <paramref name="WorkerTime"/>: the same rows,
/// the workers' seconds in session runs and getting inputs ready out of their wall time (<see cref="Bench.WorkerTime"/>;
/// summed over the repeats).</para>
public sealed record Measurement(string Model, string Path, long Evaluations, double Seconds, double PeakRssMb, int? Batch = null,
    string Detail = "", string? Method = null, MapError? Error = null, double? RawNearby = null, IReadOnlyList<double>? NearbyRatios = null,
    double? ComputeSeconds = null, IReadOnlyList<double>? FixedRepeats = null, double? ReusedSeconds = null,
    int? JobBatch = null, IReadOnlyList<double>? JobBatchRatios = null, ThreadCpu? Cpu = null, IReadOnlyList<double>? RawBeforeRatios = null,
    WorkerTime? WorkerTime = null)
{
    /// <summary>The inference threads' share of the process's CPU during the row (see <see cref="ThreadCpu"/>).</summary>
    public double? InferenceCpuShare => Cpu?.InferenceShare;

    /// <summary>The median of the pairs' evals/s over raw at the job's batch.</summary>
    public double? RatioAtJobBatch => JobBatchRatios is { Count: > 0 } ratios ? Median(ratios) : null;

    /// <summary>Wall time less compute (see <see cref="ComputeSeconds"/>): the median over the repeats when there were several.</summary>
    public double? FixedSeconds => FixedRepeats is { Count: > 0 } repeats ? Median(repeats)
        : ComputeSeconds is { } compute ? Seconds - compute : null;

    /// <summary>A spread of the pairs' ratios above this share of their median makes the row's ratio unreliable.</summary>
    public const double WideSpread = 0.15;

    public double EvalsPerSecond => Evaluations / Seconds;

    /// <summary>The median of the pairs' ratios, or evals/s over the one raw nearby figure.</summary>
    public double? RatioNearby => NearbyRatios is { Count: > 0 } ratios ? Median(ratios) : RawNearby is { } n ? EvalsPerSecond / n : null;

    /// <summary>(max − min) / median of the pairs' ratios; null with fewer than two pairs.</summary>
    public double? RatioSpread => NearbyRatios is { Count: > 1 } ratios ? (ratios.Max() - ratios.Min()) / Median(ratios) : null;

    public bool Unreliable => RatioSpread > WideSpread;

    public static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}

/// <summary>
/// An approximate map against the exact one: ‖approx − exact‖₂ / ‖exact‖₂ over every pixel of every map, and the share
/// of the exact map's top 5 % pixels (by value) that are also in the approximate map's top 5 % (the mean over maps).
/// </summary>
public sealed record MapError(double RelativeL2, double TopOverlap);
