using System.Diagnostics;
using Lantern.Explainers.Imaging;
using Lantern.Imaging;
using Lantern.Methods;
using Lantern.Worker.Hosting;
using Lantern.Worker.Inference;

namespace Lantern.Bench;

/// <summary>
/// The ceiling: plain batched inference of the job's unperturbed input in the worker's layout (as many sessions side by
/// side as the node has worker actors, each through the worker's own ModelSession with its SessionOptions and threads),
/// at each batch size. No perturbation, no copying in, no scores kept.
/// </summary>
public static class RawThroughput
{
    public static (IReadOnlyList<Measurement> PerBatch, string Provider) Measure(
        BenchJob job, WorkerOptions worker, IReadOnlyList<int> batchSizes, double secondsEach, RssSampler rss)
    {
        var (sessionOptions, provider) = ExecutionProviders.Create(worker.ExecutionProvider, worker.SessionThreads);
        using var ownedOptions = sessionOptions;
        var image = BaseTensor(job);
        var sessions = new List<ModelSession>();
        try
        {
            for (var w = 0; w < Math.Max(1, worker.Workers); w++)
            {
                var session = ModelSession.Load(job.ModelBytes, job.Info, sessionOptions, batchSizes.Max(), out _);
                sessions.Add(session);
                var input = session.InputBuffer(session.MaxBatch);
                for (var b = 0; b < session.MaxBatch; b++) image.CopyTo(input.Slice(b * session.TensorLength, session.TensorLength));
            }
            // A fixed-batch model whose batch could not be rewritten runs one image at a time, as the worker runs it.
            var results = batchSizes.Where(b => b <= sessions[0].MaxBatch)
                .Select(batch => MeasureBatch(job, sessions, batch, secondsEach, rss))
                .ToList();
            return (results, sessions.Count == 1 ? provider : $"{provider}, {sessions.Count} sessions side by side");
        }
        finally
        {
            sessions.ForEach(s => s.Dispose());
        }
    }

    /// <summary>
    /// Raw throughput at one batch size on fresh sessions, measured just before an explanation row: on a shared machine
    /// the load changes over a run, and the ratio against this figure compares two things measured under the same load.
    /// </summary>
    public static double Nearby(BenchJob job, WorkerOptions worker, int batch, double seconds, RssSampler rss) =>
        Measure(job, worker, [batch], seconds, rss).PerBatch[0].EvalsPerSecond;

    /// <summary>Every session runs on its own thread until the time is up; the figure is their evaluations together.</summary>
    private static Measurement MeasureBatch(BenchJob job, IReadOnlyList<ModelSession> sessions, int batch, double seconds, RssSampler rss)
    {
        rss.Restart();
        var runs = new long[sessions.Count];
        var elapsed = new double[sessions.Count];
        using var start = new Barrier(sessions.Count);
        var threads = sessions.Select((session, i) => new Thread(() =>
        {
            var scores = new float[session.MaxBatch * session.ClassCount];
            // Warm-up: first runs at a new shape pay for allocation planning and page faults.
            var warmup = Stopwatch.StartNew();
            for (var r = 0; r < 3 || warmup.Elapsed.TotalSeconds < seconds / 10; r++) session.Run(batch, scores);
            start.SignalAndWait();
            var clock = Stopwatch.StartNew();
            while (runs[i] < 3 || clock.Elapsed.TotalSeconds < seconds)
            {
                session.Run(batch, scores);
                runs[i]++;
            }
            elapsed[i] = clock.Elapsed.TotalSeconds;
        }) { Name = $"raw-{i}" }).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        // Side by side, each session's rate over its own time, summed (they start together and stop within one run).
        var perSecond = runs.Select((r, i) => r * batch / elapsed[i]).Sum();
        var evaluations = runs.Sum() * batch;
        return new Measurement(job.ModelName, $"raw b={batch}", evaluations, evaluations / perSecond, rss.PeakMb, Batch: batch);
    }

    /// <summary>
    /// The preprocessed unperturbed image, built as the worker's PreparedJob builds it; without the job's perturber, so
    /// any method's job will do.
    /// </summary>
    private static float[] BaseTensor(BenchJob job)
    {
        var image = ImageDecoder.Decode(job.ImageBytes);
        var preprocessor = new ImagePreprocessor(image.Width, image.Height, job.Spec.Preprocessing.ToExplainers());
        var tensor = new float[preprocessor.TensorLength];
        preprocessor.Write(image.Pixels, tensor);
        return tensor;
    }
}
