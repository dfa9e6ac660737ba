namespace Lantern.Bench;

/// <summary>
/// Measures every model with every method on every path, then reports. Raw and in-process run before the cluster
/// starts, so an idle cluster does not share the cores with them. Raw runs once per model: it runs no method.
/// </summary>
public static class BenchRun
{
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
        var results = new List<ModelResult>();
        foreach (var jobs in models)
        {
            var first = jobs[0];
            var sweep = options.BatchSweep; // a fixed-batch model that cannot be rewritten is measured at batch 1 only
            Console.WriteLine($"{first.ModelName}: raw at batch {string.Join(',', sweep)} ...");
            var (raw, rawProvider) = RawThroughput.Measure(first, worker, sweep, options.SecondsPerBatchSize, rss);
            provider = rawProvider;
            var rows = new List<Measurement>();
            if (options.Paths.Contains(BenchOptions.InProcessPath))
            {
                foreach (var job in jobs)
                {
                    Console.WriteLine($"{job.ModelName}: in-process {job.Method.Name}, {job.Perturbations} perturbations ...");
                    rows.Add(job.Method.Name == BenchMethod.CoarseToFineName
                        ? await CoarseToFineJob.MeasureAsync(job, worker, options.CoarseToFineThreshold, rss)
                        : await InProcessJob.MeasureAsync(job, worker, rss));
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
                        results[i].Rows.Add(await cluster.MeasureActorsAsync(job, rss));
                    }
                    if (options.Paths.Contains(BenchOptions.GrpcPath))
                    {
                        Console.WriteLine($"{job.ModelName}: {job.Method.Name} end to end through gRPC ...");
                        results[i].Rows.Add(await cluster.MeasureGrpcAsync(job, rss));
                    }
                }
            }
        }

        var loadAtEnd = Report.Load();
        Console.WriteLine();
        Console.Write(Report.Table(results, options.Methods));
        Console.WriteLine("ratio = evals/s over the model's best raw evals/s; peak RSS MB = the process's peak resident set during the row.");
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
