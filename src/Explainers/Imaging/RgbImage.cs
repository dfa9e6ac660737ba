namespace Lantern.Explainers.Imaging;

/// <summary>Interleaved RGB, row-major, H×W×3 floats with values in 0..255 (as decoded, before any model preprocessing).</summary>
public sealed class RgbImage
{
    public RgbImage(int width, int height, float[] pixels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        if (width < 1 || height < 1)
            throw new ArgumentException($"image must be at least 1x1, got {width}x{height}");
        if (pixels.Length != 3L * width * height)
            throw new ArgumentException(
                $"a {width}x{height} RGB image needs {3L * width * height} values, got {pixels.Length}", nameof(pixels));
        Width = width;
        Height = height;
        Pixels = pixels;
    }

    public int Width { get; }
    public int Height { get; }
    public float[] Pixels { get; }

    /// <summary>Per channel (R, G, B) mean, accumulated in double.</summary>
    public float[] ChannelMeans()
    {
        double r = 0, g = 0, b = 0;
        var p = Pixels;
        for (var i = 0; i < p.Length; i += 3)
        {
            r += p[i];
            g += p[i + 1];
            b += p[i + 2];
        }
        double n = (double)Width * Height;
        return [(float)(r / n), (float)(g / n), (float)(b / n)];
    }
}

/// <summary>A rectangle in pixel coordinates; <see cref="Right"/> and <see cref="Bottom"/> are exclusive.</summary>
public readonly record struct PixelRect(int X, int Y, int Width, int Height)
{
    public int Right => X + Width;
    public int Bottom => Y + Height;
}
