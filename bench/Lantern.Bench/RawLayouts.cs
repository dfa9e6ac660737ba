using System.Globalization;
using System.Text;
using Lantern.Worker.Inference;

namespace Lantern.Bench;

/// <summary>
/// <c>--layouts</c>: how to spend the cores on inference. Raw throughput of each model at its best batch in three
/// layouts: one session on one thread (what ONNX Runtime's own default ran on the 2-core VM), one session with a thread
/// per core, and a single-threaded session per core side by side (what a CPU node runs unless told otherwise,
/// WorkerOptions.ForHardware). The layouts take turns, in <see cref="Rounds"/> rounds, each keeping its best figure, so
/// a burst of other work on a shared machine has to hit one layout in every round to mislead the comparison.
/// </summary>
public static class RawLayouts
{
    private const int Rounds = 3;

    private sealed record Layout(string Name, int Sessions, int Threads);

    private sealed record Row(string Model, IReadOnlyList<(Layout Layout, int Batch, double PerSecond)> Figures);

    public static async Task<int> RunAsync(BenchOptions options, IReadOnlyList<string> args)
    {
        var shared = SharedFolder.Locate(options.Shared);
        var image = options.Image ?? Path.Combine(shared, "images", "tench.png");
        var cores = Environment.ProcessorCount;
        Layout[] layouts =
        [
            new("1 session × 1 thread", 1, 1),
            new($"1 session × {cores} threads", 1, cores),
            new($"{cores} sessions × 1 thread", cores, 1),
        ];
        var machine = Report.Machine();
        var loadAtStart = Report.Load();
        foreach (var line in machine) Console.WriteLine(line);
        using var rss = new RssSampler();
        var rows = new List<Row>();
        var provider = "";
        foreach (var model in options.Models)
        {
            var job = await BenchJob.CreateAsync(SharedFolder.ModelPath(shared, model), image, BenchMethod.Create(BenchMethod.OcclusionName, options), null);
            var best = new (int Batch, double PerSecond)[layouts.Length];
            for (var round = 0; round < Rounds; round++)
            {
                for (var l = 0; l < layouts.Length; l++)
                {
                    var worker = options.Worker with { Workers = layouts[l].Sessions, IntraOpThreads = layouts[l].Threads };
                    var (perBatch, description) = RawThroughput.Measure(job, worker, options.BatchSweep, options.SecondsPerBatchSize / Rounds, rss);
                    provider = description;
                    var top = perBatch.MaxBy(m => m.EvalsPerSecond)!;
                    if (top.EvalsPerSecond > best[l].PerSecond) best[l] = (top.Batch!.Value, top.EvalsPerSecond);
                }
            }
            var row = new Row(job.ModelName, [.. layouts.Select((layout, l) => (layout, best[l].Batch, best[l].PerSecond))]);
            rows.Add(row);
            Console.WriteLine(string.Join("  ", row.Figures.Select(f => $"{f.Layout.Name}: {f.PerSecond:F1}/s at b={f.Batch}").Prepend(job.ModelName)));
        }
        var header = layouts.Select(l => $"{l.Name} evals/s (batch)").Prepend("model").Append("side by side ÷ one thread").Append("side by side ÷ one session's threads").ToArray();
        var table = rows.Select(r => r.Figures.Select(f => $"{F(f.PerSecond, 1)} ({f.Batch})").Prepend(r.Model)
            .Append(F(r.Figures[2].PerSecond / r.Figures[0].PerSecond, 2)).Append(F(r.Figures[2].PerSecond / r.Figures[1].PerSecond, 2)).ToArray()).ToList();
        Console.WriteLine();
        foreach (var line in table.Prepend(header)) Console.WriteLine(string.Join(" | ", line));
        if (options.Results is { } path)
        {
            var md = new StringBuilder();
            md.AppendLine("## Cores: sessions side by side or threads in one (`--layouts`)").AppendLine();
            md.AppendLine("Written by `Lantern.Bench --layouts --results`; every figure below was measured in the one run described here.").AppendLine();
            md.AppendLine($"- command: `dotnet run -c Release --project bench/Lantern.Bench --{string.Concat(args.Select(a => " " + a))}`");
            md.AppendLine($"- finished: {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC");
            foreach (var line in machine) md.AppendLine($"- {line}");
            md.AppendLine($"- inference provider: {provider.Split(',')[0]}");
            md.AppendLine($"- {loadAtStart} at the start, {Report.Load().Replace("load average: ", "")} at the end");
            md.AppendLine($"- raw inference of tench.png at batches {string.Join(", ", options.BatchSweep)}, {options.SecondsPerBatchSize / Rounds:0.##} s each, " +
                          $"in {Rounds} rounds that take the layouts in turn; each layout keeps its best batch's best round (the batch in brackets)");
            md.AppendLine();
            md.AppendLine($"| {string.Join(" | ", header)} |");
            md.AppendLine($"|---|{string.Concat(header.Skip(1).Select(_ => "---:|"))}");
            foreach (var line in table) md.AppendLine($"| {string.Join(" | ", line)} |");
            Report.ReplaceSection(path, "layouts", md.ToString());
            Console.WriteLine($"wrote {path}");
        }
        return 0;
    }

    private static string F(double value, int decimals) => value.ToString($"F{decimals}", CultureInfo.InvariantCulture);
}
