namespace Lantern.Bench;

/// <summary>
/// Measures every model with every method on every path, then reports. Raw and in-process run before the cluster
/// starts, so an idle cluster does not share the cores with them. Raw runs once per model: it runs no method.
/// </summary>
public static class BenchRun
{
    /// <summary>Measured time of the raw figure taken right before each explanation row (see <see cref="RawThroughput.Nearby"/>).</summary>
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
        foreach (var model in options.Models)
        {
            var jobs = new List<BenchJob>();
            foreach (var method in methods)
                jobs.Add(await BenchJob.CreateAsync(SharedFolder.ModelPath(shared, model), image, method));
            models.Add(jobs);
        }
        var jobLines = models[0].Select(job =>
            $"{job.Method.Name} of {Path.GetFileName(image)}: {job.Method.Description}{Features(job)}, {job.Perturbations} perturbations, seed 0, top-1 target").ToList();
        foreach (var line in jobLines) Console.WriteLine($"job: {line}");

        var provider = "";
        var rawProbes = new List<(BenchJob Job, int Batch)>();
        async Task<double> Nearby(BenchJob job, int batch)
        {
            await WarmUp.QuietAsync(); // right after the node starts, the JIT is still compiling its hosting stack
            return RawThroughput.Nearby(job, worker, batch, NearbySeconds, rss);
        }
        var results = new List<ModelResult>();
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
                    Console.WriteLine($"{job.ModelName}: in-process {job.Method.Name}, {job.Perturbations} perturbations ...");
                    var nearby = await Nearby(first, bestBatch);
                    var row = job.Method.Name == BenchMethod.CoarseToFineName
                        ? await CoarseToFineJob.MeasureAsync(job, worker, options.CoarseToFineThreshold, rss)
                        : await InProcessJob.MeasureAsync(job, worker, rss);
                    rows.Add(row with { RawNearby = nearby });
                }
            }
            results.Add(new ModelResult(first.ModelName, raw, rows));
        }
        Console.WriteLine($"  provider: {provider}");

        if (options.Paths.Contains(BenchOptions.ClusterPath) || options.Paths.Contains(BenchOptions.GrpcPath))
        {
            await using var cluster = await LocalCluster.StartAsync(worker);
            for (var i = 0; i < models.Count; i++)
            {
                foreach (var job in models[i].Where(j => j.Method.Name != BenchMethod.CoarseToFineName)) // in-process only
                {
                    if (options.Paths.Contains(BenchOptions.ClusterPath))
                    {
                        Console.WriteLine($"{job.ModelName}: {job.Method.Name} through the local cluster's actors ...");
                        var nearby = await Nearby(rawProbes[i].Job, rawProbes[i].Batch);
                        results[i].Rows.Add(await cluster.MeasureActorsAsync(job, rss) with { RawNearby = nearby });
                    }
                    if (options.Paths.Contains(BenchOptions.GrpcPath))
                    {
                        Console.WriteLine($"{job.ModelName}: {job.Method.Name} end to end through gRPC ...");
                        var nearby = await Nearby(rawProbes[i].Job, rawProbes[i].Batch);
                        results[i].Rows.Add(await cluster.MeasureGrpcAsync(job, rss) with { RawNearby = nearby });
                    }
                }
            }
        }

        var loadAtEnd = Report.Load();
        Console.WriteLine();
        Console.Write(Report.Table(results, options.Methods));
        Console.WriteLine("ratio = evals/s over the model's best raw evals/s; nearby = over raw at that batch size measured right before the row;");
        Console.WriteLine("peak RSS MB = the process's peak resident set during the row.");
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
            Report.WriteMarkdown(markdown, run, results, options.Methods);
            Console.WriteLine($"wrote {markdown}");
        }
        return 0;
    }

    /// <summary>The number of features the gateway's segmentation produced, for methods that segment.</summary>
    private static string Features(BenchJob job) => job.Spec.FeatureCount > 0 ? $" ({job.Spec.FeatureCount} features)" : "";
}
