using Lantern.Contracts.Messages;
using Lantern.Explainers.Imaging;
using Preprocessing = Lantern.Explainers.Imaging.Preprocessing;

namespace Lantern.Methods.Gradients;

/// <summary>Where a gradient job's maps live: the model input, the feature layer, and the source image they go back to.</summary>
public sealed class GradientGeometry
{
    public GradientGeometry(JobSpec spec)
    {
        Preprocessing = spec.Preprocessing.ToExplainers();
        ChannelsFirst = Preprocessing.Layout == TensorLayout.Nchw;
        (ImageWidth, ImageHeight) = (spec.ImageWidth, spec.ImageHeight);
        if (spec.LayerShape.Count == 3)
            (LayerChannels, LayerHeight, LayerWidth) = ((int)spec.LayerShape[0], (int)spec.LayerShape[1], (int)spec.LayerShape[2]);
    }

    public Preprocessing Preprocessing { get; }
    public bool ChannelsFirst { get; }
    public int InputHeight => Preprocessing.Height;
    public int InputWidth => Preprocessing.Width;
    public int InputPixels => InputHeight * InputWidth;
    public int ImageWidth { get; }
    public int ImageHeight { get; }
    public int LayerChannels { get; }
    public int LayerHeight { get; }
    public int LayerWidth { get; }
    public int LayerPixels => LayerHeight * LayerWidth;

    /// <summary>A map over the model input (input pixels) on the source image.</summary>
    public float[] InputMapToImage(ReadOnlySpan<float> map) =>
        MapResampler.InputToImage(map, Preprocessing, ImageWidth, ImageHeight);

    /// <summary>A feature-layer map, upsampled bilinearly to the model input (as pytorch-grad-cam does), on the source image.</summary>
    public float[] LayerMapToImage(ReadOnlySpan<float> map) =>
        InputMapToImage(MapResampler.Resize(map, LayerHeight, LayerWidth, InputHeight, InputWidth));

    /// <summary>Sums work items' maps for one target, in item order (items × targets × length).</summary>
    public static float[] SumItems(ReadOnlySpan<float> itemMaps, int targets, int target, int length)
    {
        var sum = new float[length];
        var items = itemMaps.Length / (targets * length);
        for (var item = 0; item < items; item++)
        {
            var map = itemMaps.Slice((item * targets + target) * length, length);
            for (var i = 0; i < length; i++) sum[i] += map[i];
        }
        return sum;
    }

    public static float[] Relu(float[] map)
    {
        for (var i = 0; i < map.Length; i++) map[i] = Math.Max(0, map[i]);
        return map;
    }
}
