using System.Text.Json.Nodes;
using Lantern.Contracts.Messages;
using Lantern.Gradients;

namespace Lantern.Methods.Gradients;

/// <summary>
/// Global average pooling of a feature layer for the image: one value per channel, the image's point in the layer's
/// feature space (what a t-SNE of a dataset lays out, as MATLAB's <c>tsne</c> of <c>activations</c>). No maps: the
/// pooled vector is in summary.json, <c>per_target[0].pooled</c>, channel by channel.
/// </summary>
public sealed class PooledActivationsMethod(GradientOptions options, JobSpec spec) : IGradientMethod
{
    public const string SummaryField = "pooled";

    private readonly GradientGeometry _geometry = new(spec);

    public string Name => "pooled-activations";
    public long PerturbationCount => 1;
    public int MapLength => _geometry.LayerChannels;

    public GradientRequest Request(string inputName) => new() { ValuesOf = [options.Layer] };

    public IGradientEvaluation Prepare(GradientJobInputs inputs) => new Evaluation(inputs.Input, _geometry.LayerPixels);

    public MethodOutput Assemble(ReadOnlySpan<float> baseline, ReadOnlySpan<float> scores, ReadOnlySpan<float> itemMaps, int[] targets)
    {
        var pooled = GradientGeometry.SumItems(itemMaps, targets.Length, 0, MapLength);
        return new MethodOutput([], new JsonArray(new JsonObject
        {
            ["layer"] = options.Layer,
            [SummaryField] = new JsonArray([.. pooled.Select(v => (JsonNode)JsonValue.Create(v))]),
        }));
    }

    public JsonObject Parameters() => new()
    {
        ["method"] = Name,
        ["layer"] = options.Layer,
        ["layer_shape"] = new JsonArray(_geometry.LayerChannels, _geometry.LayerHeight, _geometry.LayerWidth),
    };

    /// <summary>The pooled vector in a summary.json this method wrote; null when it has none.</summary>
    public static float[]? FromSummary(string summaryJson)
    {
        if (summaryJson.Length == 0 || JsonNode.Parse(summaryJson)?["per_target"]?[0]?[SummaryField] is not JsonArray values) return null;
        return [.. values.Select(v => v!.GetValue<float>())];
    }

    private sealed class Evaluation(float[] input, int pixels) : IGradientEvaluation
    {
        public void Write(long index, Span<float> tensor) => input.CopyTo(tensor);

        /// <summary>Target slot 0 only (the vector does not depend on the target): each channel's mean over the layer's pixels.</summary>
        public void Accumulate(in GradientRow row, Span<float> map)
        {
            if (row.TargetSlot != 0) return;
            var values = row.LayerValues;
            for (var k = 0; k < map.Length; k++)
            {
                var sum = 0.0;
                foreach (var v in values.Slice(k * pixels, pixels)) sum += v;
                map[k] = (float)(sum / pixels);
            }
        }
    }
}
