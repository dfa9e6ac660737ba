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
    /// <summary>A batch is as good as the fastest when its throughput is at least this fraction of it.</summary>
    public const double Tolerance = 0.95;

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

    /// <summary>
    /// Times each candidate batch on the session (one warm-up run, then runs until <paramref name="perBatch"/> has
    /// passed, at least two) and chooses. Returns the choice and the measured evaluations per second by batch.
    /// </summary>
    public static (int Batch, IReadOnlyList<(int Batch, double PerSecond)> Timings) Measure(ModelSession session, TimeSpan perBatch)
    {
        var timings = new List<(int, double)>();
        var scores = new float[session.MaxBatch * Math.Max(1, session.ClassCount)];
        foreach (var batch in Candidates(session.MaxBatch))
        {
            session.InputBuffer(batch).Clear();
            session.Run(batch, scores);
            var started = Stopwatch.GetTimestamp();
            var runs = 0;
            do
            {
                session.Run(batch, scores);
                runs++;
            }
            while (runs < 2 || Stopwatch.GetElapsedTime(started) < perBatch);
            timings.Add((batch, batch * runs / Stopwatch.GetElapsedTime(started).TotalSeconds));
        }
        return (Choose(timings), timings);
    }
}
