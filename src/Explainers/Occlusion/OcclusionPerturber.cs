using Lantern.Explainers.Imaging;

namespace Lantern.Explainers.Occlusion;

/// <summary>
/// Produces the model input for each occluded copy of one image without re-preprocessing the whole image: only the tensor
/// elements whose resampling footprint meets the window are recomputed. Not thread-safe: one per thread. Allocates only in
/// its constructor.
/// </summary>
public sealed class OcclusionPerturber : IPerturber
{
    private const float DefaultBlurSigma = 10f;

    private readonly float[] _original;
    private readonly float[] _scratch;   // equals _original between calls
    private readonly float[] _baseTensor;
    private readonly ImagePreprocessor _preprocessor;
    private readonly OcclusionPlan _plan;
    private readonly int _width;

    // Either a full replacement image (Blur) or one colour (Zero, Mean, Constant).
    private readonly float[]? _fillImage;
    private readonly float _fillR, _fillG, _fillB;

    public OcclusionPerturber(RgbImage image, ImagePreprocessor preprocessor, OcclusionPlan plan, OcclusionFill fill)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(preprocessor);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(fill);
        if (plan.ImageWidth != image.Width || plan.ImageHeight != image.Height)
            throw new ArgumentException(
                $"the occlusion plan is for a {plan.ImageWidth}x{plan.ImageHeight} image but the image is {image.Width}x{image.Height}");

        _original = image.Pixels;
        _scratch = (float[])image.Pixels.Clone();
        _preprocessor = preprocessor;
        _plan = plan;
        _width = image.Width;
        _baseTensor = new float[preprocessor.TensorLength];
        preprocessor.Write(_original, _baseTensor); // also checks that the preprocessor expects this image size

        switch (fill.Kind)
        {
            case FillKind.Zero:
                break;
            case FillKind.Mean:
                var means = image.ChannelMeans();
                (_fillR, _fillG, _fillB) = (means[0], means[1], means[2]);
                break;
            case FillKind.Constant:
                (_fillR, _fillG, _fillB) = (fill.R, fill.G, fill.B);
                break;
            case FillKind.Blur:
                _fillImage = GaussianBlur(image, fill.BlurSigma > 0 ? fill.BlurSigma : DefaultBlurSigma);
                break;
            default:
                throw new ArgumentException($"unknown fill kind {fill.Kind}", nameof(fill));
        }
    }

    /// <summary>The preprocessed, unperturbed image.</summary>
    public ReadOnlySpan<float> BaseTensor => _baseTensor;

    /// <summary>
    /// tensor := preprocess(image with window <paramref name="windowIndex"/> replaced by the fill); bit-identical to a full
    /// <see cref="ImagePreprocessor.Write"/> of the occluded image.
    /// </summary>
    public void Write(long windowIndex, Span<float> tensor)
    {
        _baseTensor.CopyTo(tensor);
        WriteWindow(_plan.WindowAt(windowIndex), tensor);
    }

    /// <summary>
    /// The previous window's outputs back to the unperturbed image's, then the new window's written: outputs neither
    /// window reaches already hold the unperturbed image's values, so the tensor ends as <see cref="Write"/> leaves it
    /// without copying the whole tensor (600 KB for a 224×224 input, most of the work of an occluded copy).
    /// </summary>
    public void Rewrite(long previousWindowIndex, long windowIndex, Span<float> tensor)
    {
        _preprocessor.CopyRegion(_baseTensor, tensor, _plan.WindowAt(previousWindowIndex));
        WriteWindow(_plan.WindowAt(windowIndex), tensor);
    }

    /// <summary>Recomputes the outputs <paramref name="window"/> reaches from the image with the window filled.</summary>
    private void WriteWindow(PixelRect window, Span<float> tensor)
    {
        Paint(window);
        try
        {
            _preprocessor.WriteRegion(_scratch, tensor, window);
        }
        finally
        {
            Restore(window);
        }
    }

    private void Paint(PixelRect window)
    {
        for (var y = window.Y; y < window.Bottom; y++)
        {
            int from = (y * _width + window.X) * 3, length = window.Width * 3;
            var row = _scratch.AsSpan(from, length);
            if (_fillImage is not null)
            {
                _fillImage.AsSpan(from, length).CopyTo(row);
                continue;
            }
            for (var i = 0; i < length; i += 3)
            {
                row[i] = _fillR;
                row[i + 1] = _fillG;
                row[i + 2] = _fillB;
            }
        }
    }

    private void Restore(PixelRect window)
    {
        for (var y = window.Y; y < window.Bottom; y++)
        {
            int from = (y * _width + window.X) * 3, length = window.Width * 3;
            _original.AsSpan(from, length).CopyTo(_scratch.AsSpan(from, length));
        }
    }

    /// <summary>
    /// Separable Gaussian blur, kernel radius ceil(3 sigma), accumulated in double. At the border the kernel is cut off and
    /// renormalised, so a constant image stays constant.
    /// </summary>
    internal static float[] GaussianBlur(RgbImage image, float sigma)
    {
        int radius = (int)Math.Ceiling(3 * sigma);
        var kernel = new double[2 * radius + 1];
        for (var k = -radius; k <= radius; k++)
            kernel[k + radius] = Math.Exp(-0.5 * k * k / ((double)sigma * sigma));

        var source = Array.ConvertAll(image.Pixels, v => (double)v);
        var horizontal = BlurAlong(source, image.Width, image.Height, kernel, vertical: false);
        var both = BlurAlong(horizontal, image.Width, image.Height, kernel, vertical: true);
        return Array.ConvertAll(both, v => (float)v);
    }

    /// <summary>One separable pass over interleaved RGB, in double and in a fixed order, so every worker gets the same bits.</summary>
    private static double[] BlurAlong(double[] src, int w, int h, double[] kernel, bool vertical)
    {
        var radius = kernel.Length / 2;
        var (length, step) = vertical ? (h, w * 3) : (w, 3);
        var result = new double[src.Length];
        for (var y = 0; y < h; y++)
        for (var x = 0; x < w; x++)
        {
            var at = vertical ? y : x;
            var origin = (y * w + x) * 3 - at * step; // index of position 0 along the blurred axis
            double r = 0, g = 0, b = 0, total = 0;
            for (int p = Math.Max(0, at - radius), end = Math.Min(length - 1, at + radius); p <= end; p++)
            {
                var k = kernel[p - at + radius];
                var i = origin + p * step;
                r += k * src[i];
                g += k * src[i + 1];
                b += k * src[i + 2];
                total += k;
            }
            var o = (y * w + x) * 3;
            (result[o], result[o + 1], result[o + 2]) = (r / total, g / total, b / total);
        }
        return result;
    }
}
