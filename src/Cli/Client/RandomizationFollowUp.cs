using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lantern.Contracts.Api;
using Lantern.Explainers.Metrics;
using Lantern.Gradients;
using Lantern.Imaging;
using SkiaSharp;

namespace Lantern.Cli.Client;

/// <summary>
/// <c>--metrics randomization</c>: the model-randomisation sanity check (Adebayo et al. 2018) after the attribution
/// job. The model's parameterised layers are re-drawn at random in a cascade from the output (<see cref="ModelRandomization"/>),
/// the same job (same image, options and classes) runs on each randomised model, and each class map is compared with the
/// original by Spearman rank correlation, of the signed maps and of their absolute values. A method that passes the check
/// loses its correlation as the cascade goes down; one whose maps stay put is explaining the image, not the model.
/// </summary>
public static class RandomizationFollowUp
{
    public const string Name = "randomization";
    public const int DefaultSteps = 5;

    /// <summary>How many top layers each step randomises: <paramref name="steps"/> points spread evenly down to all of them.</summary>
    public static IReadOnlyList<int> Cascade(int layers, int steps) =>
        [.. Enumerable.Range(1, steps).Select(i => (int)Math.Ceiling(layers * i / (double)steps)).Distinct()];

    /// <param name="run">Submits a job and returns its result once done (the caller's progress bar).</param>
    /// <returns>The attribution result's summary with the check merged in, and a curve picture per class.</returns>
    public static async Task<(string Summary, IReadOnlyList<(string Name, byte[] Png)> Pictures)> RunAsync(ExplainClient client,
        ExplainRequest request, JobResult result, int steps, Func<SubmitJobRequest, Task<JobResult>> run, CancellationToken cancellationToken)
    {
        var model = await File.ReadAllBytesAsync(request.ModelPath!, cancellationToken);
        var layers = ModelRandomization.Layers(model);
        if (layers.Count == 0)
            throw new InvalidOperationException("--metrics randomization re-draws the weights of Conv, Gemm and MatMul layers; this model has no float32 ones");
        var maps = result.Maps.Where(m => m is { Window: 0, Kind: "", Region: 0 }).ToList();
        if (maps.Count == 0) throw new InvalidOperationException("--metrics randomization compares class attribution maps; this job made none");

        var checks = maps.ToDictionary(m => m.TargetClass, _ => new JsonArray());
        var curves = maps.ToDictionary(m => m.TargetClass, _ => (Signed: new List<float> { 1 }, Absolute: new List<float> { 1 }));
        foreach (var count in Cascade(layers.Count, steps))
        {
            var randomised = ModelRandomization.Cascade(model, count, request.Submit.Seed);
            var submit = request.Submit.Clone();
            submit.Model = "";
            submit.ModelSha256 = (await client.UploadModelAsync(randomised, $"randomized-top-{count}.onnx", cancellationToken)).Sha256;
            submit.ImageSha256 = result.Progress.ImageSha256;
            submit.Targets = new Targets { Classes = { maps.Select(m => m.TargetClass) } }; // the original's classes, not the random model's top
            submit.Name = $"{request.Submit.Name} randomized top {count}";
            var randomResult = await run(submit);
            foreach (var original in maps)
            {
                var map = randomResult.Maps.Single(m => m is { Window: 0, Kind: "", Region: 0 } && m.TargetClass == original.TargetClass);
                var a = MemoryMarshal.Cast<byte, float>(original.Data.Span);
                var b = MemoryMarshal.Cast<byte, float>(map.Data.Span);
                var signed = RankCorrelation.Spearman(a, b);
                var absolute = RankCorrelation.Spearman(Abs(a), Abs(b));
                checks[original.TargetClass].Add(new JsonObject
                {
                    ["layers_randomized"] = count, ["down_to_layer"] = layers[count - 1], ["spearman"] = signed, ["spearman_abs"] = absolute,
                    ["job_id"] = randomResult.Progress.JobId,
                });
                curves[original.TargetClass].Signed.Add((float)signed);
                curves[original.TargetClass].Absolute.Add((float)absolute);
            }
        }

        var summary = JsonNode.Parse(result.SummaryJson)?.AsObject() ?? new JsonObject();
        if (summary["targets"] is JsonArray targets)
            foreach (var target in targets.OfType<JsonObject>())
                if (target["region"] is null && (int?)target["class"] is { } c && checks.TryGetValue(c, out var check))
                    target[Name] = check.DeepClone();
        summary[Name] = new JsonObject
        {
            ["reference"] = "Adebayo et al. 2018, cascading model parameter randomization",
            ["layers"] = new JsonArray([.. layers.Select(l => (JsonNode)l)]),
            ["layers_randomized"] = new JsonArray([.. Cascade(layers.Count, steps).Select(k => (JsonNode)k)]),
            ["seed"] = request.Submit.Seed,
            ["weights"] = "each re-drawn tensor: Gaussian, mean 0, the original tensor's standard deviation",
        };
        var pictures = maps.Select(m =>
        {
            var (signed, absolute) = curves[m.TargetClass];
            var label = m.Label.Length > 0 ? $" ({m.Label})" : "";
            return ($"randomization-{m.TargetClass}.png", Figure.LineChart(
            [
                new Figure.Curve("Spearman, signed maps", [.. signed], new SKColor(200, 40, 40)),
                new Figure.Curve("Spearman, |maps|", [.. absolute], new SKColor(30, 90, 200)),
            ], $"class {m.TargetClass}{label}: map vs the original as layers are randomised",
            $"layers randomised, from the output: 0 to all {layers.Count} in {curves[m.TargetClass].Signed.Count - 1} steps"));
        }).ToList();
        return (summary.ToJsonString(new JsonSerializerOptions { WriteIndented = true }), pictures);
    }

    private static float[] Abs(ReadOnlySpan<float> values)
    {
        var abs = new float[values.Length];
        for (var i = 0; i < abs.Length; i++) abs[i] = Math.Abs(values[i]);
        return abs;
    }
}
