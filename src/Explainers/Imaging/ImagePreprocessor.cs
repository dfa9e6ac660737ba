namespace Lantern.Explainers.Imaging;

/// <summary>
/// Turns a source image of a fixed size into a model's input tensor: one separable antialiased bilinear resample straight
/// from the source (the centre crop is folded into the per-axis weight tables), then scale, normalise, reorder channels and
/// lay out. <see cref="WriteRegion"/> recomputes only what a changed source rectangle can affect, bit-identically to
/// <see cref="Write"/>, because both go through the same per-pixel routine.
/// </summary>
public sealed class ImagePreprocessor
{
    private readonly int _sourceWidth;
    private readonly int _sourceHeight;
    private readonly int _width;
    private readonly int _height;
    private readonly bool _nchw;
    private readonly float _scale;
    private readonly ResampleAxis _x;
    private readonly ResampleAxis _y;

    // Indexed by source channel (R, G, B): where it goes in the model's channel order and its normalisation.
    private readonly int[] _modelChannel = new int[3];
    private readonly float[] _mean = new float[3];
    private readonly float[] _std = new float[3];

    public ImagePreprocessor(int sourceWidth, int sourceHeight, Preprocessing preprocessing)
    {
        ArgumentNullException.ThrowIfNull(preprocessing);
        var p = preprocessing;
        if (sourceWidth < 1 || sourceHeight < 1)
            throw new ArgumentException($"source image must be at least 1x1, got {sourceWidth}x{sourceHeight}");
        if (p.Width < 1 || p.Height < 1)
            throw new ArgumentException($"model input must be at least 1x1, got {p.Width}x{p.Height}");
        if (p.Mean is not { Length: 3 } || p.Std is not { Length: 3 })
            throw new ArgumentException("preprocessing needs exactly 3 Mean and 3 Std values, one per channel");
        for (var c = 0; c < 3; c++)
        {
            if (p.Std[c] == 0 || !float.IsFinite(p.Std[c]))
                throw new ArgumentException($"Std[{c}] must be finite and non-zero, got {p.Std[c]}");
        }

        _sourceWidth = sourceWidth;
        _sourceHeight = sourceHeight;
        _width = p.Width;
        _height = p.Height;
        _nchw = p.Layout == TensorLayout.Nchw;
        _scale = p.Scale;
        for (var c = 0; c < 3; c++)
        {
            int m = p.ChannelOrder == ChannelOrder.Rgb ? c : 2 - c;
            _modelChannel[c] = m;
            _mean[c] = p.Mean[m];
            _std[c] = p.Std[m];
        }

        if (p.Resize == ResizeMode.Stretch)
        {
            _x = new ResampleAxis(sourceWidth, p.Width, 0, p.Width);
            _y = new ResampleAxis(sourceHeight, p.Height, 0, p.Height);
        }
        else
        {
            if (p.ResizeShorterSide < 1)
                throw new ArgumentException($"ResizeShorterSide must be at least 1, got {p.ResizeShorterSide}");
            var (resizedWidth, resizedHeight) = ResizedSize(sourceWidth, sourceHeight, p.ResizeShorterSide);
            if (p.Width > resizedWidth || p.Height > resizedHeight)
                throw new ArgumentException(
                    $"centre crop {p.Width}x{p.Height} does not fit in the {sourceWidth}x{sourceHeight} image resized to " +
                    $"{resizedWidth}x{resizedHeight}; use a ResizeShorterSide of at least {Math.Max(p.Width, p.Height)}");
            _x = new ResampleAxis(sourceWidth, resizedWidth, CropOffset(resizedWidth, p.Width), p.Width);
            _y = new ResampleAxis(sourceHeight, resizedHeight, CropOffset(resizedHeight, p.Height), p.Height);
        }
    }

    /// <summary>3 * Width * Height of the model input.</summary>
    public int TensorLength => 3 * _width * _height;

    /// <summary>Full preprocessing of a source image laid out like <see cref="RgbImage.Pixels"/>.</summary>
    public void Write(ReadOnlySpan<float> sourceHwc, Span<float> tensor)
    {
        CheckLengths(sourceHwc, tensor);
        for (var oy = 0; oy < _height; oy++)
        for (var ox = 0; ox < _width; ox++)
            WritePixel(sourceHwc, tensor, ox, oy);
    }

    /// <summary>
    /// Recomputes only the tensor elements whose resampling footprint intersects <paramref name="changed"/> (source pixel
    /// coordinates; clipped to the image), from <paramref name="sourceHwc"/>; every other element of
    /// <paramref name="tensor"/> is left as it is. Each recomputed element is bit-identical to what <see cref="Write"/>
    /// produces for it. Allocation-free: this is the per-evaluation hot path.
    /// </summary>
    public void WriteRegion(ReadOnlySpan<float> sourceHwc, Span<float> tensor, PixelRect changed)
    {
        CheckLengths(sourceHwc, tensor);
        var (x0, x1) = _x.OutputsTouching(changed.X, changed.Right);
        var (y0, y1) = _y.OutputsTouching(changed.Y, changed.Bottom);
        for (var oy = y0; oy < y1; oy++)
        for (var ox = x0; ox < x1; ox++)
            WritePixel(sourceHwc, tensor, ox, oy);
    }

    /// <summary>
    /// Copies from <paramref name="fromTensor"/> into <paramref name="tensor"/> the outputs that
    /// <see cref="WriteRegion"/> would recompute for <paramref name="changed"/>: every channel of each.
    /// </summary>
    public void CopyRegion(ReadOnlySpan<float> fromTensor, Span<float> tensor, PixelRect changed)
    {
        if (fromTensor.Length != TensorLength || tensor.Length != TensorLength)
            throw new ArgumentException($"both tensors must hold {TensorLength} values, got {fromTensor.Length} and {tensor.Length}");
        var (x0, x1) = _x.OutputsTouching(changed.X, changed.Right);
        var (y0, y1) = _y.OutputsTouching(changed.Y, changed.Bottom);
        if (x1 <= x0) return;
        for (var oy = y0; oy < y1; oy++)
        {
            if (_nchw)
            {
                for (var m = 0; m < 3; m++)
                {
                    var from = (m * _height + oy) * _width + x0;
                    fromTensor.Slice(from, x1 - x0).CopyTo(tensor.Slice(from, x1 - x0));
                }
                continue;
            }
            var start = (oy * _width + x0) * 3;
            fromTensor.Slice(start, (x1 - x0) * 3).CopyTo(tensor.Slice(start, (x1 - x0) * 3));
        }
    }

    /// <summary>
    /// The one routine both Write and WriteRegion use. Per channel: acc = Σ_sy wy * (Σ_sx wx * src), both sums in float and
    /// in source order, then (acc * Scale - Mean) / Std. Changing the order or precision here changes every tensor.
    /// </summary>
    private void WritePixel(ReadOnlySpan<float> src, Span<float> tensor, int ox, int oy)
    {
        int xStart = _x.Start(ox);
        var wx = _x.Weights(ox);
        int yStart = _y.Start(oy);
        var wy = _y.Weights(oy);

        float accR = 0f, accG = 0f, accB = 0f;
        for (var j = 0; j < wy.Length; j++)
        {
            var row = src.Slice(((yStart + j) * _sourceWidth + xStart) * 3, wx.Length * 3);
            float r = 0f, g = 0f, b = 0f;
            for (var i = 0; i < wx.Length; i++)
            {
                float w = wx[i];
                r += w * row[3 * i];
                g += w * row[3 * i + 1];
                b += w * row[3 * i + 2];
            }
            float wj = wy[j];
            accR += wj * r;
            accG += wj * g;
            accB += wj * b;
        }

        Store(tensor, ox, oy, 0, accR);
        Store(tensor, ox, oy, 1, accG);
        Store(tensor, ox, oy, 2, accB);
    }

    private void Store(Span<float> tensor, int ox, int oy, int sourceChannel, float resampled)
    {
        int m = _modelChannel[sourceChannel];
        int index = _nchw
            ? (m * _height + oy) * _width + ox
            : (oy * _width + ox) * 3 + m;
        tensor[index] = (resampled * _scale - _mean[sourceChannel]) / _std[sourceChannel];
    }

    private void CheckLengths(ReadOnlySpan<float> sourceHwc, Span<float> tensor)
    {
        if (sourceHwc.Length != 3 * _sourceWidth * _sourceHeight)
            throw new ArgumentException(
                $"source must hold {3 * _sourceWidth * _sourceHeight} values ({_sourceWidth}x{_sourceHeight} RGB), got {sourceHwc.Length}",
                nameof(sourceHwc));
        if (tensor.Length != TensorLength)
            throw new ArgumentException($"tensor must hold {TensorLength} values, got {tensor.Length}", nameof(tensor));
    }

    /// <summary>Where the model input sits in the source image: the size the source is resized to, and the crop's offset in it.</summary>
    public static (int ResizedWidth, int ResizedHeight, int CropX, int CropY) Geometry(int sourceWidth, int sourceHeight, Preprocessing p)
    {
        if (p.Resize == ResizeMode.Stretch) return (p.Width, p.Height, 0, 0);
        var (width, height) = ResizedSize(sourceWidth, sourceHeight, p.ResizeShorterSide);
        return (width, height, CropOffset(width, p.Width), CropOffset(height, p.Height));
    }

    /// <summary>The shorter side becomes <paramref name="shorterSide"/>, the other keeps the aspect ratio, rounded half away from zero.</summary>
    private static (int Width, int Height) ResizedSize(int width, int height, int shorterSide)
    {
        if (width <= height)
            return (shorterSide, Math.Max(1, (int)Math.Round((double)height * shorterSide / width, MidpointRounding.AwayFromZero)));
        return (Math.Max(1, (int)Math.Round((double)width * shorterSide / height, MidpointRounding.AwayFromZero)), shorterSide);
    }

    // torchvision's CenterCrop: int(round((size - crop) / 2.0)); Python rounds halves to even.
    private static int CropOffset(int resized, int crop) =>
        (int)Math.Round((resized - crop) / 2.0, MidpointRounding.ToEven);
}
