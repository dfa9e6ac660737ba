using System.Text.Json.Nodes;
using Lantern.Contracts.Messages;
using Lantern.Explainers;
using Lantern.Explainers.Imaging;
using Lantern.Explainers.Lime;
using ExplainerSegmentation = Lantern.Explainers.Segmentation.Segmentation;

namespace Lantern.Methods;

/// <summary>
/// LIME as lime_image does it: sample 0 keeps every feature, the others switch features on and off by fair coins from
/// the counter-based generator; one weighted ridge per target. Maps: each superpixel painted with its weight, plus
/// the positive-only mask view of get_image_and_mask.
/// </summary>
public sealed class LimeMethod(LimeOptions options, ulong seed, int featureCount, ExplainerSegmentation? segmentation)
    : IExplanationMethod
{
    private readonly LimeParameters _parameters = new(options.Samples, seed, options.KernelWidth, Selection(options.FeatureSelection),
        options.NumFeatures);

    public string Name => "lime";
    public long PerturbationCount => options.Samples;

    public IPerturber CreatePerturber(RgbImage image, ImagePreprocessor preprocessor)
    {
        var segments = FeatureMethods.Require(segmentation, Name);
        return new LimePerturber(image, segments, FeatureMethods.HideColours(options.Hide, segments, image), preprocessor, seed);
    }

    public MethodOutput Assemble(ReadOnlySpan<float> baseline, ReadOnlySpan<float> scores, int[] targets)
    {
        var segments = FeatureMethods.Require(segmentation, Name);
        var explanations = LimeAssembler.Explain(_parameters with { Samples = scores.Length / targets.Length }, featureCount,
            scores, targets.Length, targets);
        var maps = new List<OutputMap>();
        var perTarget = new JsonArray();
        foreach (var explanation in explanations)
        {
            maps.Add(new OutputMap(explanation.Target, 0, "", LimeAssembler.WeightMap(segments, explanation)));
            maps.Add(new OutputMap(explanation.Target, 0, "mask", LimeAssembler.PositiveMask(segments, explanation, options.MaskFeatures)));
            perTarget.Add(new JsonObject
            {
                ["class"] = explanation.Target,
                ["intercept"] = explanation.Intercept,
                ["r2"] = explanation.Score,
                ["local_prediction"] = explanation.LocalPrediction,
                ["selected_features"] = new JsonArray([.. explanation.SelectedFeatures.Select(f => (JsonNode)f)]),
                ["weights"] = new JsonArray([.. explanation.Weights.Select(w => (JsonNode)w)]),
            });
        }
        return new MethodOutput(maps, perTarget);
    }

    /// <summary>The first checkpoint at which the top features' ranking had held for StableChecks checks in a row.</summary>
    public long? StopAfter(ReadOnlySpan<float> scores, long completed, int[] targets)
    {
        if (!options.StopWhenStable) return null;
        string? previous = null;
        var held = 0;
        for (long n = options.CheckEvery; n <= Math.Min(completed, options.Samples); n += options.CheckEvery)
        {
            // The first n samples never change, so neither does their ranking: fit each checkpoint once.
            if (!_rankingAt.TryGetValue(n, out var ranking))
                _rankingAt[n] = ranking = TopRanking(scores[..(int)(n * targets.Length)], (int)n, targets);
            held = ranking == previous ? held + 1 : 0;
            previous = ranking;
            if (held >= options.StableChecks) return n;
        }
        return null;
    }

    private readonly Dictionary<long, string> _rankingAt = [];

    private string TopRanking(ReadOnlySpan<float> scores, int samples, int[] targets)
    {
        var explanations = LimeAssembler.Explain(_parameters with { Samples = samples }, featureCount, scores, targets.Length, targets);
        return string.Join('|', explanations.Select(e => string.Join(',',
            Enumerable.Range(0, e.Weights.Length).OrderByDescending(f => e.Weights[f]).ThenBy(f => f).Take(options.StableTop))));
    }

    public JsonObject Parameters() => new()
    {
        ["samples"] = options.Samples,
        ["segmentation"] = FeatureMethods.SegmentationJson(options.Segmentation, featureCount),
        ["hide"] = OcclusionMethod.FillJson(options.Hide),
        ["kernel_width"] = options.KernelWidth,
        ["distance"] = "cosine distance to the all-on sample (as lime_image)",
        ["feature_selection"] = options.FeatureSelection,
        ["num_features"] = options.NumFeatures,
        ["mask_features"] = options.MaskFeatures,
        ["stop_when_stable"] = options.StopWhenStable
            ? new JsonObject
            {
                ["check_every"] = options.CheckEvery, ["stable_checks"] = options.StableChecks, ["stable_top"] = options.StableTop,
            }
            : false,
    };

    private static FeatureSelection Selection(string name) => name switch
    {
        "forward_selection" => FeatureSelection.ForwardSelection,
        "highest_weights" => FeatureSelection.HighestWeights,
        "none" => FeatureSelection.None,
        _ => FeatureSelection.Auto,
    };
}
