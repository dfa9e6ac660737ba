using System.Text.Json.Nodes;
using Lantern.Contracts.Messages;
using Lantern.Gradients;

namespace Lantern.Methods.Gradients;

/// <summary>
/// A feature layer's own activations (MATLAB's <c>activations</c>): the channels with the highest mean activation, each
/// upsampled onto the image as a map of kind "activation" whose target is the channel index. The job's target only
/// orders the summary; activations do not depend on it.
/// </summary>
public sealed class ActivationsMethod(GradientOptions options, JobSpec spec) : IGradientMethod
{
    private readonly GradientGeometry _geometry = new(spec);
    private int Top => Math.Min(options.TopChannels, _geometry.LayerChannels);

    public string Name => "activations";
    public long PerturbationCount => 1;
    public int MapLength => Top * (1 + _geometry.LayerPixels);

    public GradientRequest Request(string inputName) => new() { ValuesOf = [options.Layer] };

    public IGradientEvaluation Prepare(GradientJobInputs inputs) => new Evaluation(inputs.Input, Top, _geometry.LayerPixels);

    public MethodOutput Assemble(ReadOnlySpan<float> baseline, ReadOnlySpan<float> scores, ReadOnlySpan<float> itemMaps, int[] targets)
    {
        var pixels = _geometry.LayerPixels;
        var channels = GradientGeometry.SumItems(itemMaps, targets.Length, 0, MapLength);
        var maps = new List<OutputMap>();
        var perChannel = new JsonArray();
        for (var i = 0; i < Top; i++)
        {
            var offset = i * (1 + pixels);
            var channel = (int)channels[offset];
            var map = channels.AsSpan(offset + 1, pixels);
            var mean = 0.0;
            foreach (var v in map) mean += v;
            perChannel.Add(new JsonObject { ["channel"] = channel, ["mean_activation"] = mean / pixels });
            maps.Add(new OutputMap(channel, 0, "activation", _geometry.LayerMapToImage(map)));
        }
        return new MethodOutput(maps, perChannel);
    }

    public JsonObject Parameters() => new()
    {
        ["method"] = "activations",
        ["layer"] = options.Layer,
        ["layer_shape"] = new JsonArray(_geometry.LayerChannels, _geometry.LayerHeight, _geometry.LayerWidth),
        ["top_channels"] = Top,
    };

    private sealed class Evaluation(float[] input, int top, int pixels) : IGradientEvaluation
    {
        public void Write(long index, Span<float> tensor) => input.CopyTo(tensor);

        /// <summary>Target slot 0 only: [channel, map…] for the top channels by mean activation, highest first.</summary>
        public void Accumulate(in GradientRow row, Span<float> map)
        {
            if (row.TargetSlot != 0) return;
            var values = row.LayerValues;
            var channels = values.Length / pixels;
            var means = new double[channels];
            for (var k = 0; k < channels; k++)
                foreach (var v in values.Slice(k * pixels, pixels)) means[k] += v;
            var order = Enumerable.Range(0, channels).OrderByDescending(k => means[k]).ThenBy(k => k).Take(top).ToArray();
            for (var i = 0; i < order.Length; i++)
            {
                var offset = i * (1 + pixels);
                map[offset] = order[i];
                values.Slice(order[i] * pixels, pixels).CopyTo(map.Slice(offset + 1, pixels));
            }
        }
    }
}
