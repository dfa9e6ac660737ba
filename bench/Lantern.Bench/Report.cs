using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;

namespace Lantern.Bench;

/// <summary>Everything measured for one model: the raw sweep, and the two explanation paths for each method.</summary>
public sealed record ModelResult(string Model, IReadOnlyList<Measurement> RawSweep, IReadOnlyList<MethodResult> Methods)
{
    public Measurement BestRaw => RawSweep.MaxBy(m => m.EvalsPerSecond)!;

    /// <summary>The in-process and cluster rows, method by method.</summary>
    public IEnumerable<Measurement> Explanations => Methods.SelectMany(m => new[] { m.InProcess, m.Cluster });
}

/// <summary>One method's job on one model, in-process and through the cluster.</summary>
public sealed record MethodResult(string Method, Measurement InProcess, Measurement Cluster);

/// <summary>Prints the results as a table with the machine they ran on, and writes them as JSON.</summary>
public static class Report
{
    private static readonly string[] Header = ["model", "method", "path", "evaluations", "seconds", "evals/s", "raw evals/s", "ratio", "peak RSS MB"];

    private const int TextColumns = 3;

    public static string Machine()
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        return $"machine: {Environment.ProcessorCount} cores, {cpu ?? RuntimeInformation.ProcessArchitecture.ToString()}, " +
               $"{RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}, " +
               $"ONNX Runtime {OrtEnv.Instance().GetVersionString()}";
    }

    /// <summary>
    /// The 1/5/15-minute load averages: other processes on the same cores slow every path, and not equally, since
    /// the paths run one after another. Figures are comparable only when this stays well under the core count.
    /// </summary>
    public static string Load() => File.Exists("/proc/loadavg")
        ? $"load average: {string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3))} on {Environment.ProcessorCount} cores"
        : "load average: unknown";

    public static string Table(IReadOnlyList<ModelResult> results)
    {
        var rows = new List<string[]> { Header };
        foreach (var r in results)
        {
            var best = r.BestRaw.EvalsPerSecond;
            foreach (var raw in r.RawSweep)
                rows.Add(Row(raw, best, raw == r.BestRaw ? $"{raw.Path} (best)" : raw.Path));
            foreach (var explanation in r.Explanations)
                rows.Add(Row(explanation, best, explanation.Path));
        }
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

    public static string Notes(IReadOnlyList<ModelResult> results) => string.Join(Environment.NewLine,
        results.SelectMany(r => r.Explanations).Select(m => $"  {m.Model} {m.Method} {m.Path}: {m.Detail}"));

    public static void WriteJson(string path, IReadOnlyList<ModelResult> results)
    {
        var rows = results.SelectMany(r =>
        {
            var best = r.BestRaw;
            return r.RawSweep.Prepend(best with { Path = "raw" }).Concat(r.Explanations).Select(m => JsonRow(m, best));
        });
        var options = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };
        File.WriteAllText(path, JsonSerializer.Serialize(rows.ToList(), options));
    }

    private static string[] Row(Measurement m, double bestRaw, string path) =>
    [
        m.Model, m.Method ?? "-", path, m.Evaluations.ToString(CultureInfo.InvariantCulture), F(m.Seconds, 2), F(m.EvalsPerSecond, 1),
        F(bestRaw, 1), F(m.EvalsPerSecond / bestRaw, 3), F(m.PeakRssMb, 0),
    ];

    private static JsonResult JsonRow(Measurement m, Measurement bestRaw) => new(
        m.Model, m.Method, m.Path, m.Evaluations, Math.Round(m.Seconds, 4), Math.Round(m.EvalsPerSecond, 2),
        Math.Round(bestRaw.EvalsPerSecond, 2), Math.Round(m.EvalsPerSecond / bestRaw.EvalsPerSecond, 4), Math.Round(m.PeakRssMb, 1), m.Batch);

    private static string F(double value, int decimals) => value.ToString($"F{decimals}", CultureInfo.InvariantCulture);

    /// <summary>
    /// One JSON object per (model, method, path); <c>method</c> is null on raw rows, <c>batch</c> is set on raw rows only.
    /// </summary>
    private sealed record JsonResult(string Model, string? Method, string Path, long Evaluations, double Seconds, double EvalsPerS,
        double RawEvalsPerS, double Ratio, double PeakRssMb, int? Batch);
}
