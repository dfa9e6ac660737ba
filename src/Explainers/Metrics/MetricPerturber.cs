using Lantern.Explainers.Imaging;
using Lantern.Explainers.Occlusion;

namespace Lantern.Explainers.Metrics;

/// <summary>
/// The model inputs of the deletion and insertion curves. Evaluation index = (curve × (steps + 1)) + k, where the curves
/// are, for each map in order, each metric in order; point k changes the first ⌊k·N/steps⌋ of the map's pixels in
/// <see cref="PixelOrder.Descending"/> order: deleted (set to the deletion fill) or inserted (the image's pixel over the
/// insertion fill), then a full preprocessing. Point 0 of a deletion curve is the unperturbed image.
/// Not thread-safe: one per thread. Allocates only in its constructor.
/// </summary>
public sealed class MetricPerturber : IPerturber
{
    private readonly float[] _image;
    private readonly ImagePreprocessor _preprocessor;
    private readonly int[][] _orders;
    private readonly MetricKind[] _metrics;
    private readonly int _steps;
    private readonly float[] _deletionFill, _insertionFill;
    private readonly float[] _scratch;

    /// <param name="maps">One attribution map per curve set, each image height × width.</param>
    public MetricPerturber(RgbImage image, ImagePreprocessor preprocessor, IReadOnlyList<float[]> maps, IReadOnlyList<MetricKind> metrics,
        int steps, OcclusionFill deletionFill, OcclusionFill insertionFill)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(preprocessor);
        if (steps < 1) throw new ArgumentException($"steps must be at least 1, got {steps}", nameof(steps));
        if (metrics.Count == 0) throw new ArgumentException("no metric to compute", nameof(metrics));
        var pixels = image.Width * image.Height;
        foreach (var map in maps)
            if (map.Length != pixels)
                throw new ArgumentException($"a map has {map.Length} values but the {image.Width}x{image.Height} image has {pixels} pixels");
        _image = image.Pixels;
        _preprocessor = preprocessor;
        _orders = [.. maps.Select(m => PixelOrder.Descending(m))];
        _metrics = [.. metrics];
        _steps = steps;
        _deletionFill = FillImage(image, deletionFill);
        _insertionFill = FillImage(image, insertionFill);
        _scratch = new float[_image.Length];
        preprocessor.Write(_image, new float[preprocessor.TensorLength]); // fails now, not per point, on a size mismatch
    }

    public long Count => (long)_orders.Length * _metrics.Length * (_steps + 1);

    public void Write(long index, Span<float> tensor)
    {
        var points = _steps + 1;
        var curve = (int)(index / points);
        var k = (int)(index % points);
        var order = _orders[curve / _metrics.Length];
        var changed = PixelOrder.ChangedAt(k, _steps, order.Length);
        if (_metrics[curve % _metrics.Length] == MetricKind.Deletion)
        {
            _image.CopyTo(_scratch, 0);
            Copy(_deletionFill, order.AsSpan(0, changed));
        }
        else
        {
            _insertionFill.CopyTo(_scratch, 0);
            Copy(_image, order.AsSpan(0, changed));
        }
        _preprocessor.Write(_scratch, tensor);
    }

    private void Copy(float[] from, ReadOnlySpan<int> pixels)
    {
        foreach (var p in pixels)
        {
            var o = 3 * p;
            _scratch[o] = from[o];
            _scratch[o + 1] = from[o + 1];
            _scratch[o + 2] = from[o + 2];
        }
    }

    /// <summary>The whole image as the fill paints it (interleaved RGB, 0..255).</summary>
    private static float[] FillImage(RgbImage image, OcclusionFill fill)
    {
        if (fill.Kind == FillKind.Blur) return OcclusionPerturber.GaussianBlur(image, fill.BlurSigma > 0 ? fill.BlurSigma : 10f);
        var (r, g, b) = fill.Kind switch
        {
            FillKind.Mean when image.ChannelMeans() is var m => (m[0], m[1], m[2]),
            FillKind.Constant => (fill.R, fill.G, fill.B),
            _ => (0f, 0f, 0f),
        };
        var pixels = new float[image.Pixels.Length];
        for (var i = 0; i < pixels.Length; i += 3) (pixels[i], pixels[i + 1], pixels[i + 2]) = (r, g, b);
        return pixels;
    }
}
