using System.Diagnostics;
using Lantern.Contracts.Messages;
using Lantern.Explainers;
using Lantern.Explainers.Imaging;
using Lantern.Explainers.Occlusion;
using Lantern.Explainers.Scoring;
using Lantern.Imaging;
using Lantern.Methods;
using Lantern.Worker.Hosting;
using Lantern.Worker.Inference;

namespace Lantern.Bench;

/// <summary>
/// Coarse-to-fine multi-scale occlusion, in-process (jobs run the same algorithm through the job entity's refinement
/// steps, see JobState.DecidePlanExtension). The worker's ModelSession and the job's own perturber evaluate the indices each step asks for, in batches of
/// the worker's MaxBatch. The exact multi-scale job runs first on the same session (timed too, for the speed-up), and
/// the coarse-to-fine maps are compared with its maps.
/// </summary>
public static class CoarseToFineJob
{
    public static Task<Measurement> MeasureAsync(BenchJob job, WorkerOptions worker, double threshold, RssSampler rss)
    {
        rss.Restart();
        var (sessionOptions, _) = ExecutionProviders.Create(worker.ExecutionProvider, worker.SessionThreads);
        using var ownedOptions = sessionOptions;
        using var session = ModelSession.Load(job.ModelBytes, job.Info, sessionOptions, worker.MaxBatch, out _);
        var image = ImageDecoder.Decode(job.ImageBytes);
        var preprocessor = new ImagePreprocessor(image.Width, image.Height, job.Spec.Preprocessing.ToExplainers());
        var perturber = MethodCatalog.For(job.Spec).CreatePerturber(image, preprocessor);
        var plan = OcclusionPlan.Create(job.Spec.ImageWidth, job.Spec.ImageHeight, job.Spec.Occlusion.Windows.ToExplainers());
        var softmax = job.Spec.AppliesSoftmax();

        // The baseline and the top-1 target, as the job entity resolves them.
        preprocessor.Write(image.Pixels, session.InputBuffer(1));
        var all = new float[session.ClassCount];
        session.Run(1, all);
        int[] targets = [Scores.TopK(all, 1)[0]];
        var baseline = new float[1];
        if (softmax) Scores.SoftmaxOf(all, targets, baseline);
        else baseline[0] = all[targets[0]];

        var scratch = new float[session.MaxBatch * session.ClassCount];
        float[] Evaluate(long[] indices)
        {
            var block = new float[indices.Length];
            for (var done = 0; done < indices.Length;)
            {
                var batch = Math.Min(session.MaxBatch, indices.Length - done);
                var input = session.InputBuffer(batch);
                for (var b = 0; b < batch; b++)
                    perturber.Write(indices[done + b], input.Slice(b * session.TensorLength, session.TensorLength));
                session.Run(batch, scratch);
                for (var b = 0; b < batch; b++)
                {
                    var row = scratch.AsSpan(b * session.ClassCount, session.ClassCount);
                    if (softmax) Scores.SoftmaxOf(row, targets, block.AsSpan(done + b, 1));
                    else block[done + b] = row[targets[0]];
                }
                done += batch;
            }
            return block;
        }

        var everything = new long[plan.WindowCount];
        for (var i = 0; i < everything.Length; i++) everything[i] = i;
        Evaluate(everything[..Math.Min(everything.Length, 2 * session.MaxBatch)]); // warm-up
        var exactClock = Stopwatch.StartNew();
        var exact = OcclusionAssembler.Assemble(plan, baseline, Evaluate(everything), 1);
        exactClock.Stop();

        var clock = Stopwatch.StartNew();
        var c2f = new CoarseToFineOcclusion(plan, baseline, threshold);
        for (var step = 0; step < c2f.Steps; step++)
        {
            var needed = c2f.Needed(step);
            c2f.Record(step, needed, Evaluate(needed));
        }
        var maps = c2f.Assemble();
        clock.Stop();

        return Task.FromResult(new Measurement(job.ModelName, BenchOptions.InProcessPath, c2f.Evaluated, clock.Elapsed.TotalSeconds,
            rss.PeakMb, Method: job.Method.Name, Error: Compare(maps.Combined[0], exact.Combined[0]),
            Detail: $"threshold {threshold}; {c2f.Evaluated} of {plan.WindowCount} windows evaluated; the exact job on the same " +
                    $"session took {exactClock.Elapsed.TotalSeconds:F2} s, {exactClock.Elapsed.TotalSeconds / clock.Elapsed.TotalSeconds:F2}× as long"));
    }

    /// <summary>Relative L2 error, and the share of the exact map's top 5 % pixels that are in the approximate map's top 5 %.</summary>
    public static MapError Compare(float[] approximate, float[] exact)
    {
        double error = 0, norm = 0;
        for (var p = 0; p < exact.Length; p++)
        {
            error += Math.Pow((double)approximate[p] - exact[p], 2);
            norm += Math.Pow(exact[p], 2);
        }
        var top = Math.Max(1, exact.Length / 20);
        var exactTop = Enumerable.Range(0, exact.Length).OrderByDescending(p => exact[p]).ThenBy(p => p).Take(top).ToHashSet();
        var approximateTop = Enumerable.Range(0, exact.Length).OrderByDescending(p => approximate[p]).ThenBy(p => p).Take(top);
        return new MapError(norm == 0 ? 0 : Math.Sqrt(error / norm), approximateTop.Count(exactTop.Contains) / (double)top);
    }
}
