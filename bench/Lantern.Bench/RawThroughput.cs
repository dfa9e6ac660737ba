using System.Diagnostics;
using Lantern.Explainers.Imaging;
using Lantern.Imaging;
using Lantern.Methods;
using Lantern.Worker.Hosting;
using Lantern.Worker.Inference;

namespace Lantern.Bench;

/// <summary>
/// The ceiling: plain batched inference of the job's unperturbed input, through the worker's own ModelSession with the
/// worker's SessionOptions, at each batch size. No perturbation, no copying in, no scores kept.
/// </summary>
public static class RawThroughput
{
    public static (IReadOnlyList<Measurement> PerBatch, string Provider) Measure(
        BenchJob job, WorkerOptions worker, IReadOnlyList<int> batchSizes, double secondsEach, RssSampler rss)
    {
        var (sessionOptions, provider) = ExecutionProviders.Create(worker.ExecutionProvider, worker.IntraOpThreads);
        using var ownedOptions = sessionOptions;
        using var session = ModelSession.Load(job.ModelBytes, job.Info, sessionOptions, batchSizes.Max(), out _);

        var input = session.InputBuffer(session.MaxBatch);
        var image = BaseTensor(job);
        for (var b = 0; b < session.MaxBatch; b++) image.CopyTo(input.Slice(b * session.TensorLength, session.TensorLength));
        var scores = new float[session.MaxBatch * session.ClassCount];

        // A fixed-batch model whose batch could not be rewritten runs one image at a time, as the worker runs it.
        var results = batchSizes.Where(b => b <= session.MaxBatch)
            .Select(batch => MeasureBatch(job, session, batch, scores, secondsEach, rss))
            .ToList();
        return (results, provider);
    }

    /// <summary>
    /// Raw throughput at one batch size on a fresh session, measured just before an explanation row: on a shared machine
    /// the load changes over a run, and the ratio against this figure compares two things measured under the same load.
    /// </summary>
    public static double Nearby(BenchJob job, WorkerOptions worker, int batch, double seconds, RssSampler rss) =>
        Measure(job, worker, [batch], seconds, rss).PerBatch[0].EvalsPerSecond;

    private static Measurement MeasureBatch(BenchJob job, ModelSession session, int batch, float[] scores, double seconds, RssSampler rss)
    {
        rss.Restart();
        // Warm-up: first runs at a new shape pay for allocation planning and page faults.
        var warmup = Stopwatch.StartNew();
        for (var i = 0; i < 3 || warmup.Elapsed.TotalSeconds < seconds / 10; i++) session.Run(batch, scores);

        long runs = 0;
        var clock = Stopwatch.StartNew();
        while (runs < 3 || clock.Elapsed.TotalSeconds < seconds)
        {
            session.Run(batch, scores);
            runs++;
        }
        clock.Stop();
        return new Measurement(job.ModelName, $"raw b={batch}", runs * batch, clock.Elapsed.TotalSeconds,
            rss.PeakMb, Batch: batch);
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
