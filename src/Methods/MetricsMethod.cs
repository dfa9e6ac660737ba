using System.Text.Json.Nodes;
using Lantern.Contracts.Messages;
using Lantern.Explainers;
using Lantern.Explainers.Imaging;
using Lantern.Explainers.Metrics;

namespace Lantern.Methods;

/// <summary>
/// Deletion and insertion curves of given maps (Petsiuk et al. 2018): each curve's points are ordinary perturbations,
/// so the workers evaluate them in batches like any method's. Assembling makes no maps: summary.json's per_target holds
/// each target's curves and their AUCs.
/// </summary>
/// <param name="maps">The maps to order pixels by, in <see cref="MetricsOptions.Maps"/> order; only workers need them.</param>
public sealed class MetricsMethod(MetricsOptions options, IReadOnlyList<float[]>? maps = null) : IExplanationMethod
{
    private readonly MetricKind[] _metrics = [.. options.Metrics.Select(Parse)];

    public string Name => "metrics";

    public long PerturbationCount => (long)options.Maps.Count * _metrics.Length * (options.Steps + 1);

    public IPerturber CreatePerturber(RgbImage image, ImagePreprocessor preprocessor) =>
        new MetricPerturber(image, preprocessor,
            maps ?? throw new InvalidOperationException("the metrics method needs its maps to perturb (MethodCatalog.MapShas)"),
            _metrics, options.Steps, options.DeletionFill.ToExplainers(), options.InsertionFill.ToExplainers());

    public MethodOutput Assemble(ReadOnlySpan<float> baseline, ReadOnlySpan<float> scores, int[] targets)
    {
        var points = options.Steps + 1;
        var perTarget = new JsonArray();
        for (var t = 0; t < targets.Length; t++)
        {
            var entry = new JsonObject { ["class"] = options.Maps[t].TargetClass, ["score"] = baseline[t] };
            for (var m = 0; m < _metrics.Length; m++)
            {
                var curve = new float[points];
                var first = ((long)t * _metrics.Length + m) * points;
                for (var k = 0; k < points; k++) curve[k] = scores[(int)((first + k) * targets.Length + t)];
                var name = MetricCurves.NameOf(_metrics[m]);
                entry[$"{name}_auc"] = MetricCurves.Auc(curve);
                entry[$"{name}_curve"] = new JsonArray([.. curve.Select(v => (JsonNode)v)]);
            }
            perTarget.Add(entry);
        }
        return new MethodOutput([], perTarget);
    }

    public JsonObject Parameters() => new()
    {
        ["metrics"] = new JsonArray([.. options.Metrics.Select(m => (JsonNode)m)]),
        ["steps"] = options.Steps,
        ["order"] = "pixels by the map's value, descending (ties in pixel order); step k changes the first floor(k*N/steps)",
        ["deletion_fill"] = OcclusionMethod.FillJson(options.DeletionFill),
        ["insertion_fill"] = OcclusionMethod.FillJson(options.InsertionFill),
        ["auc"] = "trapezoid rule over the fraction k/steps in 0..1 of the target's score (the job's score kind); curve point k is at k/steps",
        ["reference"] = "Petsiuk, Das, Saenko 2018, RISE (deletion and insertion); as Quantus and pytorch-grad-cam",
        ["map_sha256"] = new JsonArray([.. options.Maps.Select(m => (JsonNode)m.DataSha256)]),
    };

    private static MetricKind Parse(string name) =>
        MetricCurves.TryParse(name, out var kind)
            ? kind
            : throw new ArgumentException($"unknown metric '{name}': use {string.Join(" or ", MetricCurves.Names)}");
}
