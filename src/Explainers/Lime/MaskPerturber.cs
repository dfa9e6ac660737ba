using Lantern.Explainers.Imaging;

namespace Lantern.Explainers.Lime;

/// <summary>
/// The model input of evaluation <c>index</c> of a superpixel method (LIME, KernelSHAP): the mask source says which
/// features stay, <see cref="FeaturePainter"/> paints the others with their hide colours, and the preprocessor does a
/// full <see cref="ImagePreprocessor.Write"/> (about half the features change per sample, so a region update would not pay).
/// Not thread-safe: one per thread. Allocates only in its constructor.
/// </summary>
public sealed class MaskPerturber : IPerturber
{
    private readonly RgbImage _image;
    private readonly Segmentation.Segmentation _segmentation;
    private readonly float[] _hideColours;
    private readonly ImagePreprocessor _preprocessor;
    private readonly IMaskSource _masks;
    private readonly bool[] _mask;
    private readonly float[] _scratch;

    public MaskPerturber(RgbImage image, Segmentation.Segmentation seg, float[] hideColours, ImagePreprocessor pre, IMaskSource masks)
    {
        FeaturePainter.Check(image, seg, hideColours);
        ArgumentNullException.ThrowIfNull(pre);
        ArgumentNullException.ThrowIfNull(masks);
        if (masks.FeatureCount != seg.FeatureCount)
            throw new ArgumentException(
                $"the masks are over {masks.FeatureCount} features but the segmentation has {seg.FeatureCount}", nameof(masks));
        _image = image;
        _segmentation = seg;
        _hideColours = (float[])hideColours.Clone(); // a caller reusing its array must not change later samples
        _preprocessor = pre;
        _masks = masks;
        _mask = new bool[seg.FeatureCount];
        _scratch = new float[image.Pixels.Length];
        pre.Write(image.Pixels, new float[pre.TensorLength]); // fails now, not per sample, if the preprocessor expects another size
    }

    public int TensorLength => _preprocessor.TensorLength;

    /// <summary>tensor := preprocess(image with the features that are off in mask <paramref name="index"/> painted).</summary>
    public void Write(long index, Span<float> tensor)
    {
        _masks.Mask(index, _mask);
        FeaturePainter.Paint(_image, _segmentation, _hideColours, _mask, _scratch);
        _preprocessor.Write(_scratch, tensor);
    }
}
