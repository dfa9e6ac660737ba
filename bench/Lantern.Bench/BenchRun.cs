using Grpc.Core;

namespace Lantern.Bench;

/// <summary>
/// Measures every model with every method on every path, then reports. Raw and in-process run before the cluster
/// starts, so an idle cluster does not share the cores with them. Raw runs once per model: it runs no method.
/// </summary>
public static class BenchRun
{
    /// <summary>Measured time of each raw figure taken between an explanation row's repeats (see <see cref="RawThroughput.Nearby"/>).</summary>
    private const double NearbySeconds = 1.5;

    public static async Task<int> RunAsync(BenchOptions options, IReadOnlyList<string> args)
    {
        var shared = SharedFolder.Locate(options.Shared);
        var image = options.Image ?? Path.Combine(shared, "images", "tench.png");
        var worker = options.Worker;
        var methods = options.BenchMethods;
        var machine = Report.Machine();
        var loadAtStart = Report.Load();
        foreach (var line in machine) Console.WriteLine(line);
        Console.WriteLine($"{loadAtStart} (start)");
        using var rss = new RssSampler();

        // One job per (model, method), each resolved by the gateway's mapping; a model's jobs share its raw figures.
        var models = new List<IReadOnlyList<BenchJob>>();
        var smallJobs = new List<BenchJob>();
        var skipped = new List<string>();
        foreach (var model in options.Models)
        {
            var jobs = new List<BenchJob>();
            var modelPath = SharedFolder.ModelPath(shared, model);
            foreach (var method in methods)
            {
                try
                {
                    jobs.Add(await BenchJob.CreateAsync(modelPath, image, method, TwinOf(shared, modelPath)));
                    if (models.Count == 0 && method.Small() is { } small) // the first model's, for the node's warm-up
                        smallJobs.Add(await BenchJob.CreateAsync(modelPath, image, small, TwinOf(shared, modelPath)));
                }
                catch (RpcException e) when (method.IsGradient && e.StatusCode == StatusCode.InvalidArgument)
                {
                    // The gateway refuses it at submit (an op without a backward rule): no rows, and the reason is reported.
                    skipped.Add($"{method.Name} on {Path.GetFileName(modelPath)}: refused at submit, no rows: {e.Status.Detail}");
                }
            }
            if (jobs.Count == 0) throw new ArgumentException($"no method asked for can run on {model}: {string.Join("; ", skipped)}");
            models.Add(jobs);
        }
        var jobLines = models.SelectMany(jobs => jobs).DistinctBy(job => job.Method.Name).Select(JobLine).ToList();
        jobLines.AddRange(models.SelectMany(jobs => jobs).Where(job => job.TwinName is not null).DistinctBy(job => job.ModelName)
            .Select(job => $"gradient methods on {job.ModelName} differentiate its float32 twin {job.TwinName} (twin_model_sha256); " +
                           $"{job.ModelName} gives the baseline scores and the forward pass they are compared with"));
        var layers = models.SelectMany(jobs => jobs).Where(job => job.Method.Name == BenchMethod.GradCamName)
            .Select(job => $"{job.ModelName} {job.Spec.Gradient.Layer}").ToList();
        if (layers.Count > 0) jobLines.Add($"gradcam layers (the gateway's default, the last 4-D activation with spatial size above 1): {string.Join(", ", layers)}");
        jobLines.AddRange(skipped);
        jobLines.Add($"the jobs' batch: {options.JobBatchDescription}; each job is planned with it as the job entity plans it");
        var inProcess = options.Paths.Any(path => path is BenchOptions.InProcessPath or BenchOptions.SerialPath or BenchOptions.PipelinedPath);
        var smallJobsLine = smallJobs.Count == 0 ? "" : $"{LocalCluster.SmallJobRuns} small jobs of each method on {smallJobs[0].ModelName} " +
            $"({string.Join("; ", smallJobs.Select(j => $"{j.Method.Name}: {j.Method.Description}"))})";
        if (smallJobs.Count > 0 && inProcess)
            jobLines.Add($"the in-process warm-up: before the first in-process row the node's evaluators run {smallJobsLine}, " +
                         "as a worker that has served a while has; each row then warms up on its own job");
        if (smallJobs.Count > 0 && (options.Paths.Contains(BenchOptions.ClusterPath) || options.Paths.Contains(BenchOptions.GrpcPath)))
            jobLines.Add($"the local cluster's warm-up: before its first row it serves {smallJobsLine}, " +
                         "as a node that has served a team for a while has; each row then warms up on its own job");
        foreach (var line in jobLines) Console.WriteLine($"job: {line}");

        var provider = "";
        var rawProbes = new List<(BenchJob Job, int Batch)>();
        async Task<double> Nearby(BenchJob job, int batch)
        {
            await WarmUp.QuietAsync(); // right after the node starts, the JIT is still compiling its hosting stack
            return RawThroughput.Nearby(job, worker, batch, NearbySeconds, rss);
        }
        // On a shared machine the load drifts within seconds: each row is measured `Repeats` times between raw figures
        // (raw, row, raw, row, …, raw), and each pair's ratio is the row over the mean of the raw figures either side of it,
        // so a load that rises or falls through the pair cancels; the row reports the median of those ratios and their spread.
        // Each row also gets raw at the batch its job was planned with, right after it (the raw either side when that is the
        // best batch): the gap to the best batch splits into the batch choice's cost and the path's cost at that batch.
        async Task<Measurement> Interleaved(BenchJob rawJob, int batch, Func<Task<Measurement>> measure)
        {
            var raws = new List<double>(); // at the best batch: one before each repeat and one after the last
            var rows = new List<(Measurement Row, double? AtJobBatch)>();
            for (var r = 0; r < options.Repeats; r++)
            {
                raws.Add(await Nearby(rawJob, batch));
                var measured = await measure();
                double? rawAtJobBatch = measured.JobBatch is > 0 && measured.JobBatch != batch ? await Nearby(rawJob, measured.JobBatch.Value) : null;
                rows.Add((measured, rawAtJobBatch));
            }
            raws.Add(await Nearby(rawJob, batch));
            (double Raw, Measurement Row, double? AtJobBatch) Pair((Measurement Row, double? AtJobBatch) repeat, int r)
            {
                var raw = (raws[r] + raws[r + 1]) / 2; // the raw figures either side of the repeat
                return (raw, repeat.Row, repeat.Row.JobBatch is > 0 ? repeat.AtJobBatch ?? raw : null);
            }
            var pairs = rows.Select(Pair).ToList();
            var ratios = pairs.Select(p => p.Row.EvalsPerSecond / p.Raw).ToList();
            var median = Measurement.Median(ratios);
            var (nearby, row, _) = pairs.MinBy(p => Math.Abs(p.Row.EvalsPerSecond / p.Raw - median)); // the median pair
            List<double> fixedCosts = [.. pairs.Where(p => p.Row.ComputeSeconds is not null).Select(p => p.Row.Seconds - p.Row.ComputeSeconds!.Value)];
            List<double> atJobBatch = [.. pairs.Where(p => p.AtJobBatch is not null).Select(p => p.Row.EvalsPerSecond / p.AtJobBatch!.Value)];
            ThreadCpu? cpu = pairs.All(p => p.Row.Cpu is not null) ? pairs.Aggregate(new ThreadCpu(), (sum, p) => sum + p.Row.Cpu!.Value) : null;
            WorkerTime? time = pairs.All(p => p.Row.WorkerTime is not null)
                ? pairs.Aggregate(new WorkerTime(), (sum, p) => sum + p.Row.WorkerTime!.Value) : null;
            return row with
            {
                Cpu = cpu, WorkerTime = time,
                RawNearby = nearby, NearbyRatios = ratios, RawBeforeRatios = [.. rows.Select((p, r) => p.Row.EvalsPerSecond / raws[r])],
                FixedRepeats = fixedCosts.Count > 0 ? fixedCosts : null, JobBatchRatios = atJobBatch.Count > 0 ? atJobBatch : null,
            };
        }
        var results = new List<ModelResult>();
        if (smallJobs.Count > 0 && inProcess)
        {
            Console.WriteLine($"in-process: running {LocalCluster.SmallJobRuns} small jobs of each method ...");
            var (warming, compiled) = await InProcessJob.ServeSmallJobsAsync(smallJobs, worker);
            Console.WriteLine($"in-process: ran them in {warming.TotalSeconds:F1} s; the JIT compiled {compiled} methods meanwhile");
        }
        foreach (var jobs in models)
        {
            var first = jobs[0];
            var sweep = options.BatchSweep; // a fixed-batch model that cannot be rewritten is measured at batch 1 only
            Console.WriteLine($"{first.ModelName}: raw at batch {string.Join(',', sweep)} ...");
            var (raw, rawProvider) = RawThroughput.Measure(first, worker, sweep, options.SecondsPerBatchSize, rss);
            provider = rawProvider;
            var rows = new List<Measurement>();
            var bestBatch = raw.MaxBy(m => m.EvalsPerSecond)!.Batch!.Value;
            rawProbes.Add((first, bestBatch));
            if (options.Paths.Contains(BenchOptions.InProcessPath))
            {
                foreach (var job in jobs)
                {
                    Console.WriteLine($"{job.ModelName}: in-process {job.Method.Name}, {job.Perturbations} {(job.Method.IsGradient ? "gradient evaluations" : "perturbations")} ...");
                    rows.Add(await Interleaved(first, bestBatch, async () => job.Method.Name == BenchMethod.CoarseToFineName
                        ? await CoarseToFineJob.MeasureAsync(job, worker, options.CoarseToFineThreshold, rss)
                        : await InProcessJob.MeasureAsync(job, worker, rss)));
                }
            }
            foreach (var (path, pipeline) in new[] { (BenchOptions.SerialPath, false), (BenchOptions.PipelinedPath, true) })
            {
                if (!options.Paths.Contains(path)) continue;
                // Gradient items and coarse-to-fine are not pipelined: nothing to compare there.
                foreach (var job in jobs.Where(j => !j.Method.IsGradient && j.Method.Name != BenchMethod.CoarseToFineName))
                {
                    Console.WriteLine($"{job.ModelName}: in-process {job.Method.Name} {(pipeline ? "with" : "without")} pipelining ...");
                    rows.Add(await Interleaved(first, bestBatch,
                        () => InProcessJob.MeasureAsync(job, worker with { Pipeline = pipeline }, rss, path)));
                }
            }
            results.Add(new ModelResult(first.ModelName, raw, rows));
        }
        Console.WriteLine($"  provider: {provider}");

        if (options.Paths.Contains(BenchOptions.ClusterPath) || options.Paths.Contains(BenchOptions.GrpcPath))
        {
            await using var cluster = await LocalCluster.StartAsync(worker);
            var viaGrpc = options.Paths.Contains(BenchOptions.GrpcPath);
            Console.WriteLine($"local cluster: serving {LocalCluster.SmallJobRuns} small jobs of each method through {(viaGrpc ? "gRPC" : "its actors")} ...");
            var (warming, compiled) = await cluster.ServeSmallJobsAsync(smallJobs, viaGrpc);
            Console.WriteLine($"local cluster: served them in {warming.TotalSeconds:F1} s; the JIT compiled {compiled} methods meanwhile");
            for (var i = 0; i < models.Count; i++)
            {
                foreach (var job in models[i].Where(j => j.Method.Name != BenchMethod.CoarseToFineName)) // in-process only
                {
                    if (options.Paths.Contains(BenchOptions.ClusterPath))
                    {
                        Console.WriteLine($"{job.ModelName}: {job.Method.Name} through the local cluster's actors ...");
                        results[i].Rows.Add(await Interleaved(rawProbes[i].Job, rawProbes[i].Batch, () => cluster.MeasureActorsAsync(job, rss)));
                    }
                    if (options.Paths.Contains(BenchOptions.GrpcPath))
                    {
                        Console.WriteLine($"{job.ModelName}: {job.Method.Name} end to end through gRPC ...");
                        results[i].Rows.Add(await Interleaved(rawProbes[i].Job, rawProbes[i].Batch, () => cluster.MeasureGrpcAsync(job, rss)));
                    }
                }
            }
        }

        var loadAtEnd = Report.Load();
        Console.WriteLine();
        Console.Write(Report.Table(results, options.Methods));
        Console.WriteLine("ratio = evals/s over the model's best raw evals/s; ratio nearby = the median, over the row's raw/row pairs measured");
        Console.WriteLine($"interleaved ({options.Repeats} each), of evals/s over raw at that batch size measured right before; spread = (max - min) / median");
        Console.WriteLine($"of those ratios; a row whose spread is above {Measurement.WideSpread:P0} says 'unreliable' instead of a ratio;");
        Console.WriteLine("job batch = the batch the job was planned with; ratio @job batch = the same median against raw at that batch,");
        Console.WriteLine("measured right after the row: the gap between the two ratios is the batch choice's, the rest the path's;");
        Console.WriteLine("peak RSS MB = the process's peak resident set during the row; s/job = seconds of the one timed job, × fwd = s/job over");
        Console.WriteLine("one forward pass (raw b=1 of the same model in this run), on gradient rows. compute ms = the worker's time inside the");
        Console.WriteLine("job's work items; fixed ms = wall time less compute (median over the repeats): submit, planning, messages, journal,");
        Console.WriteLine("assembly (and upload, watch, fetch on grpc). infer CPU = the workers' inference threads' share of the process's CPU");
        Console.WriteLine("during the row's timed jobs; the rest went to the node's control plane, the runtime and the bench's own client.");
        Console.WriteLine("run % = the workers' share of their wall time inside the model's session runs; input % = getting batches' inputs ready.");
        Console.WriteLine();
        Console.Write(Report.FixedCostTable(results, options.Methods));
        Console.WriteLine(Report.Notes(results));
        Console.WriteLine($"{loadAtEnd} (end)");
        if (options.Json is { } json)
        {
            Report.WriteJson(json, results);
            Console.WriteLine($"wrote {json}");
        }
        if (options.Results is { } markdown)
        {
            var run = new RunDescription(args, machine, provider, jobLines, loadAtStart, loadAtEnd, DateTimeOffset.UtcNow);
            if (options.FixedCost) Report.WriteFixedCostSection(markdown, run, results, options.Methods);
            else Report.WriteMarkdown(markdown, run, results, options.Methods);
            Console.WriteLine($"wrote {markdown}");
        }
        return 0;
    }

    private static string JobLine(BenchJob job) => job.Method.IsGradient
        ? $"{job.Method.Name} of {Path.GetFileName(job.ImagePath)}: {job.Method.Description}, {job.Perturbations} gradient " +
          "evaluations (forward + backward) + 1 baseline forward, seed 0, top-1 target"
        : $"{job.Method.Name} of {Path.GetFileName(job.ImagePath)}: {job.Method.Description}{Features(job)}, {job.Perturbations} perturbations, seed 0, top-1 target";

    /// <summary>The shared float32 twin of a quantized model, when the model is one of <see cref="BenchOptions.Twins"/>.</summary>
    private static string? TwinOf(string shared, string modelPath) =>
        BenchOptions.Twins.TryGetValue(Path.GetFileName(modelPath), out var twin) && File.Exists(SharedFolder.ModelPath(shared, twin))
            ? SharedFolder.ModelPath(shared, twin)
            : null;

    /// <summary>The number of features the gateway's segmentation produced, for methods that segment.</summary>
    private static string Features(BenchJob job) => job.Spec.FeatureCount > 0 ? $" ({job.Spec.FeatureCount} features)" : "";
}
