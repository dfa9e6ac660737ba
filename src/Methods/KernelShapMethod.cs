using System.Text.Json.Nodes;
using Lantern.Contracts.Messages;
using Lantern.Explainers;
using Lantern.Explainers.Imaging;
using Lantern.Explainers.Lime;
using Lantern.Explainers.Shap;
using ExplainerSegmentation = Lantern.Explainers.Segmentation.Segmentation;

namespace Lantern.Methods;

/// <summary>
/// KernelSHAP over superpixels: exact when every coalition fits in the sample budget, else paired kernel-weighted
/// sampling; attributions sum to f(all features) − f(no features). Map: each superpixel painted with its Shapley value.
/// </summary>
public sealed class KernelShapMethod(KernelShapOptions options, ulong seed, int featureCount, ExplainerSegmentation? segmentation)
    : IExplanationMethod
{
    private readonly KernelShapParameters _parameters = new(options.Samples, seed);

    public string Name => "kernelshap";
    public long PerturbationCount => KernelShapSampler.SampleCount(_parameters, featureCount);

    public IPerturber CreatePerturber(RgbImage image, ImagePreprocessor preprocessor)
    {
        var segments = FeatureMethods.Require(segmentation, Name);
        return new MaskPerturber(image, segments, FeatureMethods.HideColours(options.Hide, segments, image), preprocessor,
            new KernelShapMasks(_parameters, featureCount));
    }

    public MethodOutput Assemble(ReadOnlySpan<float> baseline, ReadOnlySpan<float> scores, int[] targets)
    {
        var segments = FeatureMethods.Require(segmentation, Name);
        var maps = new List<OutputMap>();
        var perTarget = new JsonArray();
        foreach (var explanation in KernelShapAssembler.Explain(_parameters, featureCount, scores, targets.Length, targets))
        {
            var map = new float[segments.Labels.Length];
            for (var i = 0; i < map.Length; i++) map[i] = (float)explanation.Values[segments.Labels[i]];
            maps.Add(new OutputMap(explanation.Target, 0, "", map));
            perTarget.Add(new JsonObject
            {
                ["class"] = explanation.Target,
                ["base_value"] = explanation.BaseValue,
                ["full_value"] = explanation.FullValue,
                ["exact"] = explanation.Exact,
                ["sum_of_values"] = explanation.Values.Sum(),
                ["values"] = new JsonArray([.. explanation.Values.Select(v => (JsonNode)v)]),
            });
        }
        return new MethodOutput(maps, perTarget);
    }

    public JsonObject Parameters() => new()
    {
        ["samples"] = options.Samples,
        ["evaluations"] = PerturbationCount,
        ["exact"] = KernelShapSampler.IsExact(_parameters, featureCount),
        ["segmentation"] = FeatureMethods.SegmentationJson(options.Segmentation, featureCount),
        ["hide"] = OcclusionMethod.FillJson(options.Hide),
    };
}
