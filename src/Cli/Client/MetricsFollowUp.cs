using System.Text.Json;
using System.Text.Json.Nodes;
using Lantern.Contracts.Api;
using Lantern.Explainers.Metrics;
using Lantern.Imaging;
using SkiaSharp;

namespace Lantern.Cli.Client;

/// <summary>
/// <c>--metrics deletion,insertion</c>: after the attribution job, a metrics job (SubmitJobRequest.metrics) scores its
/// combined class maps on the workers; its AUCs and curves are merged into summary.json and drawn as metrics-&lt;class&gt;.png.
/// </summary>
public static class MetricsFollowUp
{
    /// <summary>The names in <c>--metrics</c>, checked; throws ArgumentException naming the ones this build computes.</summary>
    public static IReadOnlyList<string> ParseNames(string text)
    {
        var names = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(n => n.ToLowerInvariant()).ToList();
        if (names.Count == 0) throw new ArgumentException($"--metrics needs at least one of: {string.Join(", ", MetricCurves.Names)}");
        foreach (var name in names)
            if (!MetricCurves.TryParse(name, out _) && name != RandomizationFollowUp.Name)
                throw new ArgumentException($"--metrics '{name}' is not one of: {string.Join(", ", MetricCurves.Names)}, {RandomizationFollowUp.Name}");
        if (names.Distinct().Count() != names.Count) throw new ArgumentException("--metrics lists a metric twice");
        return names;
    }

    /// <summary>The metrics job for a finished attribution job: same model, image, preprocessing and score, its class maps.</summary>
    public static SubmitJobRequest Request(SubmitJobRequest attribution, JobResult result, IReadOnlyList<string> metrics, int steps)
    {
        var maps = result.Maps.Where(m => m is { Window: 0, Kind: "", Region: 0 }).ToList();
        if (maps.Count == 0)
            throw new InvalidOperationException("--metrics scores class attribution maps; this job made none (region targets and activation maps are not scored)");
        var request = new SubmitJobRequest
        {
            Model = attribution.Model,
            ModelSha256 = attribution.Model.Length > 0 ? "" : result.Progress.ModelSha256,
            ImageSha256 = result.Progress.ImageSha256,
            Preprocessing = attribution.Preprocessing,
            Score = attribution.Score,
            Labels = { attribution.Labels },
            Name = $"{attribution.Name} metrics",
            Priority = attribution.Priority,
            NoCache = attribution.NoCache,
            Metrics = new MetricsOptions { Metrics = { metrics.Where(m => m != RandomizationFollowUp.Name) }, Steps = steps },
        };
        foreach (var map in maps) request.Metrics.Maps.Add(new MetricMap { TargetClass = map.TargetClass, Data = map.Data });
        return request;
    }

    /// <summary>
    /// The attribution job's summary with each class target's <c>deletion_auc</c>/<c>insertion_auc</c> added, and the
    /// metrics job's curves and parameters under "metrics".
    /// </summary>
    public static string MergeSummary(string attributionSummary, JobResult metrics)
    {
        var summary = JsonNode.Parse(attributionSummary)?.AsObject() ?? new JsonObject();
        var scored = JsonNode.Parse(metrics.SummaryJson)!.AsObject();
        var perTarget = scored["per_target"]?.AsArray() ?? [];
        if (summary["targets"] is JsonArray targets)
        {
            foreach (var target in targets.OfType<JsonObject>())
            {
                if (target["region"] is not null) continue;
                var entry = perTarget.OfType<JsonObject>().FirstOrDefault(e => (int?)e["class"] == (int?)target["class"]);
                if (entry is null) continue;
                foreach (var (key, value) in entry.Where(p => p.Key.EndsWith("_auc", StringComparison.Ordinal)).ToList())
                    target[key] = value?.DeepClone();
            }
        }
        summary["metrics"] = new JsonObject
        {
            ["job_id"] = scored["job_id"]?.DeepClone(),
            ["parameters"] = scored["parameters"]?.DeepClone(),
            ["evaluations"] = scored["evaluations"]?.DeepClone(),
            ["timings"] = scored["timings"]?.DeepClone(),
            ["per_target"] = perTarget.DeepClone(),
        };
        return summary.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>metrics-&lt;class&gt;.png per target: its curves over the fraction of pixels changed, AUCs in the legend.</summary>
    public static IReadOnlyList<(string Name, byte[] Png)> Pictures(JobResult metrics)
    {
        var pictures = new List<(string, byte[])>();
        var summary = JsonNode.Parse(metrics.SummaryJson);
        var perTarget = summary?["per_target"]?.AsArray() ?? [];
        var targets = summary?["targets"]?.AsArray().OfType<JsonObject>().ToList() ?? [];
        foreach (var entry in perTarget.OfType<JsonObject>())
        {
            var curves = new List<Figure.Curve>();
            foreach (var name in MetricCurves.Names)
            {
                if (entry[$"{name}_curve"] is not JsonArray values) continue;
                var auc = (double)entry[$"{name}_auc"]!;
                curves.Add(new Figure.Curve($"{name} AUC {Figure.Format(auc)}", [.. values.Select(v => (float)v!)],
                    name == MetricCurves.Deletion ? new SKColor(200, 40, 40) : new SKColor(30, 90, 200)));
            }
            if (curves.Count == 0) continue;
            var target = (int)entry["class"]!;
            var label = (string?)targets.FirstOrDefault(t => (int?)t["class"] == target)?["label"];
            var title = $"class {target}{(string.IsNullOrEmpty(label) ? "" : $" ({label})")}: score vs pixels changed";
            pictures.Add(($"metrics-{target}.png", Figure.LineChart(curves, title, "fraction of pixels deleted / inserted, most important first")));
        }
        return pictures;
    }
}
