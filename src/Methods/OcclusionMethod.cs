using System.Text.Json.Nodes;
using Lantern.Contracts.Api;
using Lantern.Explainers;
using Lantern.Explainers.Imaging;
using Lantern.Explainers.Occlusion;

namespace Lantern.Methods;

/// <summary>Occlusion at one or several window sizes (Captum's Occlusion; multi-scale: max-normalised average).</summary>
public sealed class OcclusionMethod(OcclusionOptions options, int imageWidth, int imageHeight) : IExplanationMethod
{
    private readonly OcclusionPlan _plan = OcclusionPlan.Create(imageWidth, imageHeight, options.Windows.ToExplainers());

    public string Name => options.Windows.Count > 1 ? "multi-scale occlusion" : "occlusion";
    public long PerturbationCount => _plan.WindowCount;

    public IPerturber CreatePerturber(RgbImage image, ImagePreprocessor preprocessor) =>
        new OcclusionPerturber(image, preprocessor, _plan, options.Fill.ToExplainers());

    public MethodOutput Assemble(ReadOnlySpan<float> baseline, ReadOnlySpan<float> scores, int[] targets)
    {
        var maps = OcclusionAssembler.Assemble(_plan, baseline, scores, targets.Length);
        var output = new List<OutputMap>();
        for (var t = 0; t < targets.Length; t++)
        {
            output.Add(new OutputMap(targets[t], 0, "", maps.Combined[t]));
            if (_plan.Scales.Count < 2) continue;
            for (var s = 0; s < _plan.Scales.Count; s++)
                output.Add(new OutputMap(targets[t], _plan.Scales[s].Height, "", maps.PerScale[s][t]));
        }
        return new MethodOutput(output);
    }

    public JsonObject Parameters() => new()
    {
        ["windows"] = new JsonArray([.. options.Windows.Select(w => (JsonNode)new JsonObject
        {
            ["height"] = w.Height, ["width"] = w.Width, ["stride_y"] = w.StrideY, ["stride_x"] = w.StrideX,
        })]),
        ["fill"] = FillJson(options.Fill),
        ["attribution"] = "mean over covering windows of score(original) - score(occluded)"
                          + (options.Windows.Count > 1 ? "; per scale divided by its max |value|, then averaged" : ""),
    };

    internal static JsonObject FillJson(Fill fill) => new()
    {
        ["kind"] = fill.Kind.ToString().ToLowerInvariant(),
        ["r"] = fill.R, ["g"] = fill.G, ["b"] = fill.B, ["blur_sigma"] = fill.BlurSigma,
    };
}
