using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Lantern.Cluster.Tests.Support;

/// <summary>Images made in the test, encoded as PNG (lossless, so the model sees exactly these pixels).</summary>
public static class TestImages
{
    /// <summary>A deterministic pseudo-random RGB image with values in 0..255.</summary>
    public static byte[] Noise(int width, int height, int seed = 1)
    {
        var random = new Random(seed);
        using var image = new Image<Rgb24>(width, height);
        for (var y = 0; y < height; y++)
        for (var x = 0; x < width; x++)
            image[x, y] = new Rgb24((byte)random.Next(40, 256), (byte)random.Next(40, 256), (byte)random.Next(40, 256));
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }
}
