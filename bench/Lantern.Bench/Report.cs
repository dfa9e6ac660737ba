using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML.OnnxRuntime;

namespace Lantern.Bench;

/// <summary>Everything measured for one model: the raw sweep, and every explanation row (method × path).</summary>
public sealed record ModelResult(string Model, IReadOnlyList<Measurement> RawSweep, List<Measurement> Rows)
{
    public Measurement BestRaw => RawSweep.MaxBy(m => m.EvalsPerSecond)!;

    /// <summary>
    /// Seconds of one forward pass at batch 1 (raw b=1, the same session in the same run); what a gradient job's time is
    /// counted in. Every sweep starts at batch 1, so only a sweep that left it out has none.
    /// </summary>
    public double? ForwardPassSeconds => RawSweep.FirstOrDefault(m => m.Batch == 1) is { } b1 ? b1.Seconds / b1.Evaluations : null;

    /// <summary>The explanation rows in the order of the methods asked for, each method's paths in measuring order.</summary>
    public IEnumerable<Measurement> Explanations(IReadOnlyList<string> methods) =>
        Rows.OrderBy(r => IndexOf(methods, r.Method)).ThenBy(r => IndexOf(BenchOptions.PathNames, r.Path));

    private static int IndexOf(IReadOnlyList<string> list, string? item) => item is null ? -1 : list.ToList().IndexOf(item);
}

/// <summary>What a run was: its command line, machine, provider, jobs and the load around it; the head of RESULTS.md.</summary>
public sealed record RunDescription(IReadOnlyList<string> Args, IReadOnlyList<string> Machine, string Provider,
    IReadOnlyList<string> Jobs, string LoadAtStart, string LoadAtEnd, DateTimeOffset FinishedAt);

/// <summary>Prints the results as a table with the machine they ran on, and writes them as JSON and as markdown.</summary>
public static class Report
{
    private static readonly string[] Header =
        ["model", "method", "path", "evaluations", "seconds", "evals/s", "raw evals/s", "ratio", "raw nearby", "ratio nearby", "spread", "job batch", "ratio @job batch", "s/job", "× fwd", "compute ms", "fixed ms", "infer CPU", "run %", "input %", "peak RSS MB"];

    private const int TextColumns = 3;

    /// <summary>CPU model, cores, memory, OS, .NET and ONNX Runtime: one fact per line.</summary>
    public static IReadOnlyList<string> Machine()
    {
        var cpu = ProcField("/proc/cpuinfo", "model name") ?? RuntimeInformation.ProcessArchitecture.ToString();
        var memory = ProcField("/proc/meminfo", "MemTotal") is { } kb && long.TryParse(kb.Split(' ')[0], out var k)
            ? $"{k / (1024.0 * 1024.0):F1} GiB"
            : "unknown";
        return
        [
            $"CPU: {cpu}, {Environment.ProcessorCount} cores visible to the process",
            $"memory: {memory}",
            $"OS: {RuntimeInformation.OSDescription} ({RuntimeInformation.OSArchitecture})",
            $"runtime: {RuntimeInformation.FrameworkDescription}, ONNX Runtime {OrtEnv.Instance().GetVersionString()}",
        ];
    }

    private static string? ProcField(string file, string key) => File.Exists(file)
        ? File.ReadLines(file).FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
        : null;

    /// <summary>
    /// The 1/5/15-minute load averages: other processes on the same cores slow every path, and not equally, since
    /// the paths run one after another. Figures are comparable only when this stays well under the core count.
    /// </summary>
    public static string Load() => File.Exists("/proc/loadavg")
        ? $"load average: {string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3))} on {Environment.ProcessorCount} cores"
        : "load average: unknown";

    public static string Table(IReadOnlyList<ModelResult> results, IReadOnlyList<string> methods)
    {
        var rows = Rows(results, methods).Prepend(Header).ToList();
        var widths = Enumerable.Range(0, Header.Length).Select(c => rows.Max(row => row[c].Length)).ToArray();
        var text = new StringBuilder();
        foreach (var row in rows)
        {
            // Text columns left-aligned, figures right-aligned.
            text.AppendJoin("  ", row.Select((cell, c) => c < TextColumns ? cell.PadRight(widths[c]) : cell.PadLeft(widths[c])));
            text.AppendLine();
        }
        return text.ToString();
    }

    private static IEnumerable<string[]> Rows(IReadOnlyList<ModelResult> results, IReadOnlyList<string> methods)
    {
        foreach (var r in results)
        {
            var best = r.BestRaw.EvalsPerSecond;
            foreach (var raw in r.RawSweep)
                yield return Row(raw, best, raw == r.BestRaw ? $"{raw.Path} (best)" : raw.Path, null);
            foreach (var explanation in r.Explanations(methods))
                yield return Row(explanation, best, explanation.Path, r.ForwardPassSeconds);
        }
    }

    public static string Notes(IReadOnlyList<ModelResult> results) => string.Join(Environment.NewLine,
        results.SelectMany(r => r.Rows).Select(m => $"  {m.Model} {m.Method} {m.Path}: {m.Detail}{ErrorNote(m)}"));

    private static string ErrorNote(Measurement m) => m.Error is { } e
        ? $"; against the exact maps: relative L2 error {F(e.RelativeL2, 4)}, top-5% overlap {F(e.TopOverlap, 3)}"
        : "";

    public static void WriteJson(string path, IReadOnlyList<ModelResult> results)
    {
        var rows = results.SelectMany(r =>
        {
            var best = r.BestRaw;
            return r.RawSweep.Prepend(best with { Path = "raw" }).Concat(r.Rows).Select(m => JsonRow(m, best, r.ForwardPassSeconds));
        });
        var options = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };
        File.WriteAllText(path, JsonSerializer.Serialize(rows.ToList(), options));
    }

    /// <summary>How a run's figures were made: command, time, machine, provider, load, jobs (a bullet each).</summary>
    private static void AppendRunDescription(StringBuilder md, RunDescription run, string comparable)
    {
        md.AppendLine($"- command: `dotnet run -c Release --project bench/Lantern.Bench --{string.Concat(run.Args.Select(a => " " + a))}`");
        md.AppendLine($"- finished: {run.FinishedAt:yyyy-MM-dd HH:mm} UTC");
        foreach (var line in run.Machine) md.AppendLine($"- {line}");
        md.AppendLine($"- inference provider: {run.Provider}");
        md.AppendLine($"- {run.LoadAtStart} at the start, {run.LoadAtEnd.Replace("load average: ", "")} at the end (a shared machine: {comparable})");
        foreach (var job in run.Jobs) md.AppendLine($"- job: {job}");
    }

    /// <summary>RESULTS.md: how the figures were made (command, machine, load, jobs), the table and the notes.</summary>
    public static void WriteMarkdown(string path, RunDescription run, IReadOnlyList<ModelResult> results, IReadOnlyList<string> methods)
    {
        var md = new StringBuilder();
        md.AppendLine("# Lantern benchmark results").AppendLine();
        md.AppendLine("Written by `Lantern.Bench --results`; every figure below was measured in the one run described here. " +
                      "Do not edit by hand: run the command again. `bench/README.md` says what each row measures.").AppendLine();
        AppendRunDescription(md, run, "ratios are comparable within this run only");
        md.AppendLine();
        md.AppendLine($"| {string.Join(" | ", Header)} |");
        md.AppendLine($"|{string.Concat(Header.Select((_, c) => c < TextColumns ? "---|" : "---:|"))}");
        foreach (var row in Rows(results, methods))
            md.AppendLine($"| {string.Join(" | ", row)} |");
        md.AppendLine();
        md.AppendLine("ratio = evals/s ÷ the model's best raw evals/s (DESIGN.md §5). raw nearby = raw evals/s at the best batch " +
                      "size on a fresh session, measured for 1.5 s right before and right after the row (their mean); each row is " +
                      "measured several times, interleaved with raw (raw, row, raw, row, …, raw), and ratio nearby is the median of the " +
                      "rows' evals/s ÷ the mean of the raw figures either side: on a shared machine the load drifts over a run, and a " +
                      "drift through a pair cancels. spread = (max − min) " +
                      $"÷ median of those ratios; above {Measurement.WideSpread * 100:F0} % the row says 'unreliable' instead of a ratio. " +
                      "job batch = the batch the job was planned with (the worker's report, as the job entity plans it); ratio @job batch = " +
                      "the median of the pairs' evals/s ÷ raw at that batch, measured right after the row (raw nearby when it is the best batch): ratio nearby below it is what " +
                      "the batch choice costs, ratio @job batch below 1 what the path costs at that batch. peak RSS MB = the bench process's peak " +
                      "resident set during that row, sampled every 10 ms; cluster and gRPC rows include the whole one-node cluster. " +
                      "infer CPU = the workers' inference threads' share of the process's CPU during the row's timed jobs " +
                      "(`/proc/self/task`); the rest went to the node's control plane, the runtime and, on gRPC rows, the bench's own client. " +
                      "run % = the share of the workers' wall time (the row's wall time × workers, over its timed jobs) inside the model's " +
                      "session runs; input % = the share spent before each batch getting its inputs ready (writing them, or waiting for " +
                      "the write ahead). The rest of the workers' time: idle (the baseline and the job's preparation before the items, the " +
                      "last item running alone, messages between items, the job's fixed costs) or reading scores.");
        var forwardPasses = results.Where(r => r.ForwardPassSeconds is not null)
            .Select(r => $"{r.Model} {F(r.ForwardPassSeconds!.Value * 1000, 2)} ms").ToList();
        if (methods.Any(BenchMethod.IsGradientName) && forwardPasses.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("Gradient rows (gradcam, ig32): s/job = the seconds of the one timed job, × fwd = s/job ÷ one forward pass at " +
                          $"batch 1 (raw b=1 of the same model on the same session, in this run: {string.Join(", ", forwardPasses)}). " +
                          "Each of their evaluations is a forward and a backward pass through the gradient model, and the backward pass " +
                          "costs about two forward passes, so one gradient evaluation costs about three forward evaluations. Their evals/s " +
                          "counts gradient evaluations (plus the one baseline forward pass), so their ratio to the raw forward " +
                          "throughput is expected to sit well below 1 — about 1/3 at best, less where the gradient model runs at batch 1 " +
                          "or the job is too short to amortise fixed costs. The 0.90 target (DESIGN.md §5) is for the perturbation methods " +
                          "and does not apply to these rows; for them, read s/job and × fwd.");
        }
        md.AppendLine().AppendLine("Notes per row:").AppendLine();
        foreach (var m in results.SelectMany(r => r.Explanations(methods)))
            md.AppendLine($"- {m.Model} {m.Method} {m.Path}: {m.Detail}{ErrorNote(m)}");
        // The sections other modes write (--fixed-cost, --control-plane) stay: this run measured neither.
        var kept = File.Exists(path) ? KeptSections(File.ReadAllText(path)) : "";
        File.WriteAllText(path, kept.Length > 0 ? md.ToString().TrimEnd() + "\n\n" + kept : md.ToString());
    }

    /// <summary>Every <c>&lt;!-- name: … --&gt;</c> … <c>&lt;!-- /name --&gt;</c> block of the file, in order.</summary>
    private static string KeptSections(string text)
    {
        var kept = new StringBuilder();
        foreach (var name in new[] { "fixed-cost", "control-plane", "layouts" })
        {
            var start = text.IndexOf($"<!-- {name}:", StringComparison.Ordinal);
            var endMarker = $"<!-- /{name} -->";
            var end = text.IndexOf(endMarker, StringComparison.Ordinal);
            if (start >= 0 && end > start) kept.Append(text[start..(end + endMarker.Length)]).Append("\n\n");
        }
        return kept.ToString().TrimEnd() + (kept.Length > 0 ? "\n" : "");
    }

    /// <param name="forwardPass">Seconds of one forward pass at batch 1; s/job and × fwd are filled on gradient rows only.</param>
    private static string[] Row(Measurement m, double bestRaw, string path, double? forwardPass)
    {
        var gradient = BenchMethod.IsGradientName(m.Method);
        return
        [
            m.Model, m.Method ?? "-", path, m.Evaluations.ToString(CultureInfo.InvariantCulture), F(m.Seconds, 2), F(m.EvalsPerSecond, 1),
            F(bestRaw, 1), F(m.EvalsPerSecond / bestRaw, 3),
            m.RawNearby is { } near ? F(near, 1) : "-",
            m.RatioNearby is not { } ratio ? "-" : m.Unreliable ? $"unreliable ({F(ratio, 3)})" : F(ratio, 3),
            m.RatioSpread is { } spread ? $"{spread * 100:F0} %" : "-",
            m.JobBatch is { } jobBatch ? jobBatch.ToString(CultureInfo.InvariantCulture) : "-",
            m.RatioAtJobBatch is { } atJobBatch ? F(atJobBatch, 3) : "-",
            gradient ? F(m.Seconds, 3) : "-", gradient && forwardPass is { } f ? F(m.Seconds / f, 1) : "-",
            m.ComputeSeconds is { } compute ? F(compute * 1000, 0) : "-", m.FixedSeconds is { } fixedCost ? F(fixedCost * 1000, 0) : "-",
            m.InferenceCpuShare is { } share ? $"{share * 100:F1} %" : "-",
            m.WorkerTime?.RunShare is { } run ? $"{run * 100:F1} %" : "-",
            m.WorkerTime?.InputShare is { } input ? $"{input * 100:F1} %" : "-",
            F(m.PeakRssMb, 0),
        ];
    }

    private static JsonResult JsonRow(Measurement m, Measurement bestRaw, double? forwardPass)
    {
        var gradient = BenchMethod.IsGradientName(m.Method) && forwardPass is not null;
        return new(
            m.Model, m.Method, m.Path, m.Evaluations, Math.Round(m.Seconds, 4), Math.Round(m.EvalsPerSecond, 2),
            Math.Round(bestRaw.EvalsPerSecond, 2), Math.Round(m.EvalsPerSecond / bestRaw.EvalsPerSecond, 4), Math.Round(m.PeakRssMb, 1),
            m.Batch, m.RawNearby is { } near ? Math.Round(near, 2) : null, m.RatioNearby is { } r ? Math.Round(r, 4) : null,
            m.RatioSpread is { } spread ? Math.Round(spread, 4) : null, m.Unreliable ? true : null,
            m.Error is { } e ? Math.Round(e.RelativeL2, 6) : null, m.Error is { } o ? Math.Round(o.TopOverlap, 4) : null,
            gradient ? Math.Round(m.Seconds, 4) : null, gradient ? Math.Round(forwardPass!.Value, 6) : null,
            gradient ? Math.Round(m.Seconds / forwardPass!.Value, 2) : null,
            m.ComputeSeconds is { } compute ? Math.Round(compute, 4) : null, m.FixedSeconds is { } fixedCost ? Math.Round(fixedCost, 4) : null,
            m.JobBatch, m.RatioAtJobBatch is { } atJobBatch ? Math.Round(atJobBatch, 4) : null,
            m.InferenceCpuShare is { } share ? Math.Round(share, 4) : null,
            m.WorkerTime?.RunShare is { } run ? Math.Round(run, 4) : null,
            m.WorkerTime?.InputShare is { } input ? Math.Round(input, 4) : null,
            m.NearbyRatios is { Count: > 1 } pairs ? [.. pairs.Select(p => Math.Round(p, 4))] : null,
            m.RawBeforeRatios is { Count: > 0 } before ? Math.Round(Measurement.Median(before), 4) : null,
            m.RawBeforeRatios is { Count: > 1 } befores ? [.. befores.Select(p => Math.Round(p, 4))] : null);
    }

    private static readonly string[] FixedCostHeader =
    [
        "model", "method", "evaluations", "in-process ms", "cluster ms", "cluster compute ms", "cluster fixed ms", "grpc ms",
        "grpc compute ms", "grpc fixed ms", "grpc fixed ÷ compute", "grpc reused ms",
    ];

    /// <summary>
    /// Per (model, method): the pure compute (in-process), and each cluster path's wall time split into the worker's compute
    /// and the rest, the job's fixed cost (medians over the interleaved repeats).
    /// </summary>
    private static IEnumerable<string[]> FixedCostRows(IReadOnlyList<ModelResult> results, IReadOnlyList<string> methods)
    {
        foreach (var r in results)
        {
            foreach (var method in methods)
            {
                var rows = r.Rows.Where(m => m.Method == method).ToDictionary(m => m.Path);
                if (!rows.TryGetValue(BenchOptions.ClusterPath, out var cluster) & !rows.TryGetValue(BenchOptions.GrpcPath, out var grpc)) continue;
                string Ms(double? seconds) => seconds is { } s ? F(s * 1000, 0) : "-";
                yield return
                [
                    r.Model, method, (grpc ?? cluster)!.Evaluations.ToString(CultureInfo.InvariantCulture),
                    Ms(rows.GetValueOrDefault(BenchOptions.InProcessPath)?.Seconds),
                    Ms(cluster?.Seconds), Ms(cluster?.ComputeSeconds), Ms(cluster?.FixedSeconds),
                    Ms(grpc?.Seconds), Ms(grpc?.ComputeSeconds), Ms(grpc?.FixedSeconds),
                    grpc is { FixedSeconds: { } f, ComputeSeconds: > 0 } ? F(f / grpc.ComputeSeconds.Value, 2) : "-",
                    Ms(grpc?.ReusedSeconds),
                ];
            }
        }
    }

    public static string FixedCostTable(IReadOnlyList<ModelResult> results, IReadOnlyList<string> methods)
    {
        var rows = FixedCostRows(results, methods).Prepend(FixedCostHeader).ToList();
        if (rows.Count == 1) return "";
        var widths = Enumerable.Range(0, FixedCostHeader.Length).Select(c => rows.Max(row => row[c].Length)).ToArray();
        var text = new StringBuilder("fixed per-job cost (wall time less the worker's compute):").AppendLine();
        foreach (var row in rows)
            text.AppendJoin("  ", row.Select((cell, c) => c < 2 ? cell.PadRight(widths[c]) : cell.PadLeft(widths[c]))).AppendLine();
        return text.ToString();
    }

    /// <summary>The <c>--fixed-cost</c> section of RESULTS.md (between its markers; appended when there is none).</summary>
    public static void WriteFixedCostSection(string path, RunDescription run, IReadOnlyList<ModelResult> results, IReadOnlyList<string> methods)
    {
        var md = new StringBuilder();
        md.AppendLine("## Fixed per-job cost (`--fixed-cost`)").AppendLine();
        md.AppendLine("Written by `Lantern.Bench --fixed-cost --results`; every figure below was measured in the one run described here. " +
                      "`bench/README.md` says what each column measures.").AppendLine();
        AppendRunDescription(md, run, "compare figures within this run only");
        md.AppendLine();
        md.AppendLine($"| {string.Join(" | ", FixedCostHeader)} |");
        md.AppendLine($"|{string.Concat(FixedCostHeader.Select((_, c) => c < 2 ? "---|" : "---:|"))}");
        foreach (var row in FixedCostRows(results, methods)) md.AppendLine($"| {string.Join(" | ", row)} |");
        md.AppendLine();
        md.AppendLine("in-process ms = the job's work on the worker's `WorkEvaluator` alone (baseline, then every item), no cluster. " +
                      "cluster and grpc ms = the job's wall time on the local one-node cluster (through its actors; end to end over gRPC " +
                      "from upload to the fetched result with overlays). compute ms = the seconds the node's worker spent inside the job's " +
                      "work items in that run (`lantern_worker_busy_seconds_total`), fixed ms = wall less compute: submit and planning, " +
                      "the baseline's round trip, leases and messages, the journal, assembly of the maps and the summary, and on grpc " +
                      "upload, watch and the fetch with overlays. Each is the median over the interleaved repeats. grpc reused ms = " +
                      "the same request once more without `no_cache`, end to end: answered from the finished job's stored result, " +
                      "nothing evaluated (upload, submit, watch and the fetch with overlays remain).");
        md.AppendLine().AppendLine("Notes per row:").AppendLine();
        foreach (var m in results.SelectMany(r => r.Explanations(methods)))
            md.AppendLine($"- {m.Model} {m.Method} {m.Path}: {m.Detail}{ErrorNote(m)}");

        ReplaceSection(path, "fixed-cost", md.ToString());
    }

    /// <summary>
    /// Writes <paramref name="markdown"/> as the section of <paramref name="path"/> between the markers named
    /// <paramref name="name"/>, in place of what was there, or at the end when there is none yet.
    /// </summary>
    public static void ReplaceSection(string path, string name, string markdown)
    {
        var begin = $"<!-- {name}: written by Lantern.Bench --{name} --results; do not edit -->";
        var endMarker = $"<!-- /{name} -->";
        var text = File.Exists(path) ? File.ReadAllText(path) : "# Lantern benchmark results\n";
        var block = $"{begin}\n{markdown.TrimEnd()}\n{endMarker}\n";
        var start = text.IndexOf(begin, StringComparison.Ordinal);
        var end = text.IndexOf(endMarker, StringComparison.Ordinal);
        text = start >= 0 && end > start
            ? text[..start] + block + text[(end + endMarker.Length)..].TrimStart('\n')
            : text.TrimEnd() + "\n\n" + block;
        File.WriteAllText(path, text);
    }

    private static string F(double value, int decimals) => value.ToString($"F{decimals}", CultureInfo.InvariantCulture);

    /// <summary>
    /// One JSON object per (model, method, path); <c>method</c> is null on raw rows, <c>batch</c> is set on raw rows only,
    /// the two error fields only on approximate rows (coarse-to-fine occlusion), the three forward-pass fields only on
    /// gradient rows: the job's seconds, one forward pass at batch 1 in seconds, and the first over the second.
    /// </summary>
    private sealed record JsonResult(string Model, string? Method, string Path, long Evaluations, double Seconds, double EvalsPerS,
        double RawEvalsPerS, double Ratio, double PeakRssMb, int? Batch,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? RawNearbyEvalsPerS,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? RatioNearby,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? RatioNearbySpread,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? Unreliable,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? RelativeL2Error,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? TopOverlap,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? SecondsPerJob,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? ForwardPassSeconds,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? ForwardPasses,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? ComputeSeconds,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? FixedSeconds,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? JobBatch,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? RatioAtJobBatch,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? InferenceCpuShare,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? ModelRunShare,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? InputShare,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<double>? RatiosNearby,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? RatioToRawBefore,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<double>? RatiosToRawBefore);
}
