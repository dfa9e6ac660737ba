using Lantern.Imaging;

namespace Lantern.Samples;

/// <summary>
/// Random-texture pictures, with or without a pure white rectangle: LIME's "random images with and without a white
/// rectangle" case. The texture is smooth value noise (random colours on a 16-pixel grid, interpolated bilinearly, with a
/// little per-pixel noise) whose channels stay within <see cref="TextureLow"/>..<see cref="TextureHigh"/>, so no texture
/// pixel is as bright as <see cref="RectangleModels.WhiteThreshold"/> and the rectangle is the only white in the picture.
/// </summary>
public static class TextureImages
{
    public const byte TextureLow = 20;
    public const byte TextureHigh = 200;
    private const int Cell = 16;

    /// <summary>A rectangle in image pixels: left, top, width, height.</summary>
    public readonly record struct Box(int X, int Y, int Width, int Height)
    {
        public bool Contains(int x, int y) => x >= X && x < X + Width && y >= Y && y < Y + Height;
    }

    /// <summary>Interleaved RGB bytes, row by row; the same seed gives the same picture.</summary>
    public static byte[] Rgb(int width, int height, int seed, Box? rectangle = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        if (rectangle is { } r && (r.Width < 1 || r.Height < 1 || r.X < 0 || r.Y < 0 || r.X + r.Width > width || r.Y + r.Height > height))
            throw new ArgumentException($"the rectangle {r} does not lie inside the {width}x{height} picture", nameof(rectangle));

        var random = new Random(seed);
        var (columns, rows) = (width / Cell + 2, height / Cell + 2);
        var grid = new float[rows, columns, 3];
        for (var gy = 0; gy < rows; gy++)
            for (var gx = 0; gx < columns; gx++)
                for (var c = 0; c < 3; c++)
                    grid[gy, gx, c] = TextureLow + (float)random.NextDouble() * (TextureHigh - TextureLow);

        var rgb = new byte[3 * width * height];
        for (var y = 0; y < height; y++)
        {
            var (gy, fy) = ((int)((float)y / Cell), (float)y / Cell % 1f);
            for (var x = 0; x < width; x++)
            {
                var (gx, fx) = ((int)((float)x / Cell), (float)x / Cell % 1f);
                var white = rectangle?.Contains(x, y) == true;
                for (var c = 0; c < 3; c++)
                {
                    var top = grid[gy, gx, c] + (grid[gy, gx + 1, c] - grid[gy, gx, c]) * fx;
                    var bottom = grid[gy + 1, gx, c] + (grid[gy + 1, gx + 1, c] - grid[gy + 1, gx, c]) * fx;
                    var value = top + (bottom - top) * fy + (float)(random.NextDouble() * 16 - 8);
                    rgb[3 * (y * width + x) + c] = white ? (byte)255 : (byte)Math.Clamp(MathF.Round(value), TextureLow, TextureHigh);
                }
            }
        }
        return rgb;
    }

    /// <summary>The picture as a PNG (lossless, so a model sees exactly these pixels).</summary>
    public static byte[] Png(int width, int height, int seed, Box? rectangle = null) =>
        Figure.Png(Rgb(width, height, seed, rectangle), width, height);
}
