namespace Lantern.Explainers.Gradients;

/// <summary>
/// Per-pixel reductions of a model-input-shaped tensor (3 channels, C×H×W or H×W×C) into one H×W map, accumulated:
/// the map is added to, so a work item can sum its evaluations.
/// </summary>
public static class ChannelReduction
{
    /// <summary>map += weight · max over channels |g| (saliency, guided backpropagation: Simonyan et al.'s reduction).</summary>
    public static void AddMaxAbs(ReadOnlySpan<float> gradient, bool channelsFirst, float weight, Span<float> map)
    {
        var pixels = map.Length;
        for (var p = 0; p < pixels; p++)
        {
            var max = 0f;
            for (var c = 0; c < 3; c++) max = Math.Max(max, Math.Abs(gradient[Index(p, c, pixels, channelsFirst)]));
            map[p] += weight * max;
        }
    }

    /// <summary>map += weight · Σ over channels g ⊙ factor (gradient × input, integrated gradients: keeps completeness).</summary>
    public static void AddProduct(ReadOnlySpan<float> gradient, ReadOnlySpan<float> factor, bool channelsFirst, float weight, Span<float> map)
    {
        var pixels = map.Length;
        for (var p = 0; p < pixels; p++)
        {
            var sum = 0f;
            for (var c = 0; c < 3; c++)
            {
                var i = Index(p, c, pixels, channelsFirst);
                sum += gradient[i] * factor[i];
            }
            map[p] += weight * sum;
        }
    }

    private static int Index(int pixel, int channel, int pixels, bool channelsFirst) =>
        channelsFirst ? channel * pixels + pixel : pixel * 3 + channel;
}
