namespace Lantern.Bench;

/// <summary>
/// Measures every model with every method on every path, then reports. Raw and in-process run before the cluster
/// starts, so an idle cluster does not share the cores with them. Raw runs once per model: it runs no method.
/// </summary>
public static class BenchRun
{
    public static async Task<int> RunAsync(BenchOptions options)
    {
        var shared = SharedFolder.Locate(options.Shared);
        var image = options.Image ?? Path.Combine(shared, "images", "tench.png");
        var worker = options.Worker;
        var methods = options.BenchMethods;
        Console.WriteLine(Report.Machine());
        Console.WriteLine($"{Report.Load()} (start)");

        // One job per (model, method), each resolved by the gateway's mapping; a model's jobs share its raw figures.
        var models = new List<IReadOnlyList<BenchJob>>();
        foreach (var model in options.Models)
        {
            var jobs = new List<BenchJob>();
            foreach (var method in methods)
                jobs.Add(await BenchJob.CreateAsync(SharedFolder.ModelPath(shared, model), image, method));
            models.Add(jobs);
        }
        foreach (var job in models[0])
            Console.WriteLine($"job: {job.Method.Name} of {Path.GetFileName(image)}, {job.Method.Description}{Features(job)}, seed 0, top-1 target");

        var local = new List<(IReadOnlyList<Measurement> Raw, IReadOnlyList<Measurement> InProcess)>();
        foreach (var jobs in models)
        {
            var first = jobs[0];
            var sweep = options.BatchSweep; // a fixed-batch model that cannot be rewritten is measured at batch 1 only
            Console.WriteLine($"{first.ModelName}: raw at batch {string.Join(',', sweep)} ...");
            var (raw, provider) = RawThroughput.Measure(first, worker, sweep, options.SecondsPerBatchSize);
            Console.WriteLine($"  provider: {provider}");
            var inProcess = new List<Measurement>();
            foreach (var job in jobs)
            {
                Console.WriteLine($"{job.ModelName}: in-process {job.Method.Name}, {job.Perturbations} perturbations ...");
                inProcess.Add(await InProcessJob.MeasureAsync(job, worker));
            }
            local.Add((raw, inProcess));
        }

        var results = new List<ModelResult>();
        await using (var cluster = await ClusterJob.StartAsync(worker))
        {
            for (var i = 0; i < models.Count; i++)
            {
                var perMethod = new List<MethodResult>();
                for (var j = 0; j < models[i].Count; j++)
                {
                    var job = models[i][j];
                    Console.WriteLine($"{job.ModelName}: {job.Method.Name} through the local cluster ...");
                    perMethod.Add(new MethodResult(job.Method.Name, local[i].InProcess[j], await cluster.MeasureAsync(job)));
                }
                results.Add(new ModelResult(models[i][0].ModelName, local[i].Raw, perMethod));
            }
        }

        Console.WriteLine();
        Console.Write(Report.Table(results));
        Console.WriteLine("ratio = evals/s over the model's best raw evals/s; peak RSS is the process's peak so far.");
        Console.WriteLine(Report.Notes(results));
        Console.WriteLine($"{Report.Load()} (end)");
        if (options.Json is { } json)
        {
            Report.WriteJson(json, results);
            Console.WriteLine($"wrote {json}");
        }
        return 0;
    }

    /// <summary>The number of features the gateway's segmentation produced, for methods that segment.</summary>
    private static string Features(BenchJob job) => job.Spec.FeatureCount > 0 ? $" ({job.Spec.FeatureCount} features)" : "";
}
