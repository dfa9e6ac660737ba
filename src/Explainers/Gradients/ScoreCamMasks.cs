using Lantern.Explainers.Imaging;

namespace Lantern.Explainers.Gradients;

/// <summary>
/// Score-CAM (Wang et al.) inputs, as pytorch-grad-cam builds them: evaluation k is the model input multiplied by channel
/// k of the feature layer's activations, upsampled to the input size (corners aligned) and min–max normalised to [0, 1].
/// </summary>
public sealed class ScoreCamMasks(float[] input, float[] activations, int channels, int layerHeight, int layerWidth,
    int inputHeight, int inputWidth, bool channelsFirst) : IPerturber
{
    private readonly float[] _mask = new float[inputHeight * inputWidth]; // one per perturber: IPerturber is one per thread

    public void Write(long index, Span<float> tensor)
    {
        var pixels = layerHeight * layerWidth;
        var mask = _mask;
        MapResampler.Resize(activations.AsSpan((int)index * pixels, pixels), layerHeight, layerWidth,
            inputHeight, inputWidth, alignCorners: true, mask);
        var (min, max) = (float.MaxValue, float.MinValue);
        foreach (var v in mask) (min, max) = (Math.Min(min, v), Math.Max(max, v));
        var range = max - min;
        var inputPixels = inputHeight * inputWidth;
        for (var p = 0; p < inputPixels; p++)
        {
            var m = range > 0 ? (mask[p] - min) / range : 0f;
            for (var c = 0; c < 3; c++)
            {
                var i = channelsFirst ? c * inputPixels + p : p * 3 + c;
                tensor[i] = input[i] * m;
            }
        }
    }

    public int Count => channels;
}
