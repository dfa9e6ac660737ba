namespace Lantern.Bench;

/// <summary>
/// Measures every model on every path, then reports. Raw and in-process run before the cluster starts, so an idle
/// cluster does not share the cores with them.
/// </summary>
public static class BenchRun
{
    public static async Task<int> RunAsync(BenchOptions options)
    {
        var shared = SharedFolder.Locate(options.Shared);
        var image = options.Image ?? Path.Combine(shared, "images", "tench.png");
        var worker = options.Worker;
        Console.WriteLine(Report.Machine());
        Console.WriteLine($"{Report.Load()} (start)");

        var jobs = new List<BenchJob>();
        foreach (var model in options.Models)
            jobs.Add(await BenchJob.CreateAsync(SharedFolder.ModelPath(shared, model), image, options.Window, options.Stride));
        Console.WriteLine($"job: occlusion of {Path.GetFileName(image)}, window {options.Window}, stride {options.Stride}, zero fill, top-1 target");

        var local = new List<(IReadOnlyList<Measurement> Raw, Measurement InProcess)>();
        foreach (var job in jobs)
        {
            var sweep = job.Info.BatchIsFixed ? [1] : options.BatchSweep; // a fixed batch dimension allows batch 1 only
            Console.WriteLine($"{job.ModelName}: {job.Perturbations} perturbations; raw at batch {string.Join(',', sweep)} ...");
            var (raw, provider) = RawThroughput.Measure(job, worker, sweep, options.SecondsPerBatchSize);
            Console.WriteLine($"  provider: {provider}");
            Console.WriteLine($"{job.ModelName}: in-process occlusion ...");
            local.Add((raw, await InProcessOcclusion.MeasureAsync(job, worker)));
        }

        var results = new List<ModelResult>();
        await using (var cluster = await ClusterOcclusion.StartAsync(worker))
        {
            for (var i = 0; i < jobs.Count; i++)
            {
                Console.WriteLine($"{jobs[i].ModelName}: occlusion through the local cluster ...");
                results.Add(new ModelResult(jobs[i].ModelName, local[i].Raw, local[i].InProcess, await cluster.MeasureAsync(jobs[i])));
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
}
