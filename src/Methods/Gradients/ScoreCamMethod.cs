using System.Text.Json.Nodes;
using Lantern.Contracts.Messages;
using Lantern.Explainers.Gradients;
using Lantern.Gradients;

namespace Lantern.Methods.Gradients;

/// <summary>
/// Score-CAM (Wang et al. 2020), forward only: evaluation k is the input masked by feature channel k (upsampled, min–max
/// normalised); the channel weights are a softmax over channels of the target's scores; map = ReLU(Σ_k w_k A_k).
/// A work item's map holds Σ_k e^(s_k − s) A_k and, last, Σ_k e^(s_k − s), with s the unmasked input's score, so items add up.
/// </summary>
public sealed class ScoreCamMethod(GradientOptions options, JobSpec spec) : IGradientMethod
{
    private readonly GradientGeometry _geometry = new(spec);

    public string Name => "scorecam";
    public long PerturbationCount => _geometry.LayerChannels;
    public int MapLength => _geometry.LayerPixels + 1;
    public bool NeedsInputLayerValues => true;

    public GradientRequest Request(string inputName) => new() { ValuesOf = [options.Layer] };

    public IGradientEvaluation Prepare(GradientJobInputs inputs)
    {
        var g = _geometry;
        var masks = new ScoreCamMasks(inputs.Input, inputs.LayerValues!, g.LayerChannels, g.LayerHeight, g.LayerWidth,
            g.InputHeight, g.InputWidth, g.ChannelsFirst);
        return new Evaluation(masks, inputs.LayerValues!, inputs.InputScores!, g.LayerPixels);
    }

    public MethodOutput Assemble(ReadOnlySpan<float> baseline, ReadOnlySpan<float> scores, ReadOnlySpan<float> itemMaps, int[] targets)
    {
        var maps = new List<OutputMap>();
        var pixels = _geometry.LayerPixels;
        for (var t = 0; t < targets.Length; t++)
        {
            var sum = GradientGeometry.SumItems(itemMaps, targets.Length, t, MapLength);
            var normaliser = sum[pixels];
            var cam = new float[pixels];
            for (var p = 0; p < pixels; p++) cam[p] = normaliser > 0 ? Math.Max(0, sum[p] / normaliser) : 0;
            maps.Add(new OutputMap(targets[t], 0, "", _geometry.LayerMapToImage(cam)));
        }
        return new MethodOutput(maps);
    }

    public JsonObject Parameters() => new()
    {
        ["method"] = "scorecam",
        ["layer"] = options.Layer,
        ["layer_shape"] = new JsonArray(_geometry.LayerChannels, _geometry.LayerHeight, _geometry.LayerWidth),
        ["weights"] = "softmax over channels of the target's score on the input masked by each channel",
        ["target"] = "logits when the model ends in softmax",
    };

    private sealed class Evaluation(ScoreCamMasks masks, float[] activations, float[] inputScores, int pixels) : IGradientEvaluation
    {
        public void Write(long index, Span<float> tensor) => masks.Write(index, tensor);

        public void Accumulate(in GradientRow row, Span<float> map)
        {
            // Relative to the unmasked score, so exp stays in range whatever the logits' scale.
            var weight = (float)Math.Exp(Math.Min(80, row.Score - inputScores[row.TargetSlot]));
            CamWeights.AddWeighted(activations.AsSpan((int)row.Index * pixels, pixels), [1f], map[..pixels], weight);
            map[pixels] += weight;
        }
    }
}
