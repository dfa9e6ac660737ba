using Lantern.Explainers.Imaging;

namespace Lantern.Explainers.Lime;

/// <summary>
/// Builds the model input of LIME sample <c>index</c>: features switched off by <see cref="LimeSampler"/> are painted with
/// their hide colours (FeatureCount*3: the per-superpixel mean as lime does when hide_color is None, or a constant), then
/// the image is preprocessed in full. A <see cref="MaskPerturber"/> over <see cref="LimeMasks"/>. Not thread-safe;
/// allocates only in the constructor.
/// </summary>
public sealed class LimePerturber(RgbImage image, Segmentation.Segmentation segmentation, float[] hideColours, ImagePreprocessor preprocessor, ulong seed) : IPerturber
{
    private readonly MaskPerturber _inner = new(image, segmentation, hideColours, preprocessor,
        new LimeMasks(seed, segmentation?.FeatureCount ?? throw new ArgumentNullException(nameof(segmentation))));

    public int TensorLength => _inner.TensorLength;

    public void Write(long sampleIndex, Span<float> tensor) => _inner.Write(sampleIndex, tensor);
}
