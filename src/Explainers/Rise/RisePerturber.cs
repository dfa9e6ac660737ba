using Lantern.Explainers.Imaging;

namespace Lantern.Explainers.Rise;

/// <summary>
/// The model input of RISE sample <c>index</c>: image × mask + fill × (1 − mask) per pixel and channel (fill black unless
/// given), then a full preprocessing. Not thread-safe: one per thread. Allocates only in its constructor.
/// </summary>
public sealed class RisePerturber : IPerturber
{
    private readonly RgbImage _image;
    private readonly ImagePreprocessor _preprocessor;
    private readonly RiseParameters _parameters;
    private readonly float _fillR, _fillG, _fillB;
    private readonly float[] _mask;
    private readonly float[] _scratch;

    /// <param name="fill">R, G, B in 0..255 shown where the mask is 0; black when null.</param>
    public RisePerturber(RgbImage image, ImagePreprocessor pre, RiseParameters p, float[]? fill = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(pre);
        ArgumentNullException.ThrowIfNull(p);
        p.Validate();
        if (fill is not null && fill.Length != 3)
            throw new ArgumentException($"fill must be 3 values (R, G, B), got {fill.Length}", nameof(fill));
        _image = image;
        _preprocessor = pre;
        _parameters = p;
        if (fill is not null) (_fillR, _fillG, _fillB) = (fill[0], fill[1], fill[2]);
        _mask = new float[image.Width * image.Height];
        _scratch = new float[image.Pixels.Length];
        pre.Write(image.Pixels, new float[pre.TensorLength]); // fails now, not per sample, if the preprocessor expects another size
    }

    public int TensorLength => _preprocessor.TensorLength;

    public void Write(long index, Span<float> tensor)
    {
        RiseMasks.Mask(_parameters, _image.Width, _image.Height, index, _mask);
        var source = _image.Pixels;
        for (var p = 0; p < _mask.Length; p++)
        {
            float m = _mask[p], rest = 1 - m;
            int o = 3 * p;
            _scratch[o] = source[o] * m + _fillR * rest;
            _scratch[o + 1] = source[o + 1] * m + _fillG * rest;
            _scratch[o + 2] = source[o + 2] * m + _fillB * rest;
        }
        _preprocessor.Write(_scratch, tensor);
    }
}
