using System.Diagnostics;

namespace Lantern.Worker.Inference;

/// <summary>
/// The best batch of a (model, execution provider, hardware): a short sweep over powers of two that times a loaded
/// session on its own (zero) inputs. The best batch is the smallest whose throughput is within a tolerance of the
/// fastest: on a CPU throughput is flat or falls beyond a few images (the choice is often 1–8), on a GPU it rises
/// until the device is full (hundreds), and the smallest near-best batch keeps work items small enough to spread.
/// </summary>
public static class BatchSweep
{
    /// <summary>
    /// A batch is as good as the fastest when its throughput is at least this fraction of it. What it gives up is lost
    /// on every job: at 0.95 MobileNetV2 fp32 ran its jobs at batch 1 where batch 2 was 1–4 % faster, and its in-process
    /// occlusion read 0.930 and 0.939 of the best raw batch in two full bench runs (0.950 and 0.965 of raw at batch 1).
    /// </summary>
    public const double Tolerance = 0.98;

    /// <summary>The batches a sweep tries: 1, 2, 4, … up to <paramref name="maxBatch"/> (which is tried too).</summary>
    public static IReadOnlyList<int> Candidates(int maxBatch)
    {
        var batches = new List<int>();
        for (var b = 1; b < maxBatch; b *= 2) batches.Add(b);
        batches.Add(Math.Max(1, maxBatch));
        return batches;
    }

    /// <summary>
    /// The smallest batch whose evaluations per second reach <paramref name="tolerance"/> of the best measured.
    /// </summary>
    public static int Choose(IReadOnlyList<(int Batch, double PerSecond)> timings, double tolerance = Tolerance)
    {
        if (timings.Count == 0) throw new ArgumentException("no timings to choose from", nameof(timings));
        var best = timings.Max(t => t.PerSecond);
        return timings.Where(t => t.PerSecond >= tolerance * best).Min(t => t.Batch);
    }

    /// <summary>Passes over the candidates: each batch is timed this many times, interleaved, and keeps its best rate.</summary>
    public const int Rounds = 3;

    /// <summary>
    /// Times each candidate batch on the session and chooses. Returns the choice and the measured evaluations per second
    /// by batch. See <see cref="Measure(Action{int}, IReadOnlyList{int}, TimeSpan, Func{long}, long, int)"/>.
    /// </summary>
    public static (int Batch, IReadOnlyList<(int Batch, double PerSecond)> Timings) Measure(ModelSession session, TimeSpan perBatch)
    {
        var scores = new float[session.MaxBatch * Math.Max(1, session.ClassCount)];
        session.InputBuffer(session.MaxBatch).Clear();
        return Measure(batch => session.Run(batch, scores), Candidates(session.MaxBatch), perBatch, Stopwatch.GetTimestamp, Stopwatch.Frequency);
    }

    /// <summary>
    /// Times <paramref name="run"/> at each batch in <paramref name="rounds"/> interleaved passes (1, 2, 4, …, then again),
    /// each a share of <paramref name="perBatch"/> and at least two runs after one warm-up run per batch, and keeps each
    /// batch's best rate. On a shared machine other work only ever slows a pass down; timing each batch once let a burst
    /// of it land on one batch and pick a batch at half the best rate (bench/RESULTS-batch.md, 2026-12-03), while a burst
    /// now has to hit the same batch in every pass.
    /// </summary>
    /// <param name="clock">Timestamps in <paramref name="ticksPerSecond"/> (Stopwatch's, or a test's).</param>
    public static (int Batch, IReadOnlyList<(int Batch, double PerSecond)> Timings) Measure(Action<int> run, IReadOnlyList<int> batches,
        TimeSpan perBatch, Func<long> clock, long ticksPerSecond, int rounds = Rounds)
    {
        var best = new double[batches.Count];
        var share = perBatch / Math.Max(1, rounds);
        for (var round = 0; round < Math.Max(1, rounds); round++)
        {
            for (var i = 0; i < batches.Count; i++)
            {
                var batch = batches[i];
                if (round == 0) run(batch); // warm-up: the first run at a batch size allocates and plans
                var started = clock();
                var runs = 0;
                long elapsed;
                do
                {
                    run(batch);
                    runs++;
                    elapsed = clock() - started;
                }
                while (runs < 2 || elapsed < share.TotalSeconds * ticksPerSecond);
                best[i] = Math.Max(best[i], batch * runs * (double)ticksPerSecond / Math.Max(1, elapsed));
            }
        }
        var timings = batches.Select((batch, i) => (batch, best[i])).ToList();
        return (Choose(timings), timings);
    }
}
