using Lantern.Explainers.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Lantern.Imaging;

/// <summary>
/// Draws a map over its image as MATLAB's occlusionSensitivity examples do:
/// <c>imshow(img); hold on; imagesc(map, 'AlphaData', 0.5); colormap jet</c>.
/// </summary>
public static class HeatmapOverlay
{
    private const int JetSize = 256; // MATLAB's default colormap length
    private const double Alpha = 0.5;
    private static readonly (byte R, byte G, byte B)[] JetTable = BuildJet(JetSize);

    /// <summary>
    /// PNG of the jet colour of <paramref name="map"/> (height×width row-major, scaled min..max like imagesc; a constant
    /// map draws the lowest colour; NaN draws the lowest colour too) blended over <paramref name="image"/> with alpha 0.5.
    /// </summary>
    public static byte[] RenderPng(RgbImage image, ReadOnlySpan<float> map)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (map.Length != (long)image.Width * image.Height)
        {
            throw new ArgumentException(
                $"the map has {map.Length} values but the image is {image.Width}x{image.Height}; they must be the same size",
                nameof(map));
        }

        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (var v in map)
        {
            if (!float.IsFinite(v)) continue;
            if (v < min) min = v;
            if (v > max) max = v;
        }
        double range = max > min ? (double)max - min : 0;

        using var output = new Image<Rgb24>(image.Width, image.Height);
        var pixels = image.Pixels;
        var mapCopy = map.ToArray(); // spans cannot be captured by the row callback
        output.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (var x = 0; x < row.Length; x++)
                {
                    var i = y * row.Length + x;
                    var v = mapCopy[i];
                    double t = range > 0 && !float.IsNaN(v) ? (Math.Clamp(v, min, max) - min) / range : 0;
                    var c = JetTable[JetIndex(t)];
                    row[x] = new Rgb24(
                        Blend(pixels[3 * i], c.R),
                        Blend(pixels[3 * i + 1], c.G),
                        Blend(pixels[3 * i + 2], c.B));
                }
            }
        });

        using var stream = new MemoryStream();
        output.SaveAsPng(stream);
        return stream.ToArray();
    }

    /// <summary>MATLAB's <c>jet(256)</c> at <paramref name="t"/> in [0,1], indexed as imagesc's scaled mapping does.</summary>
    public static (byte R, byte G, byte B) Jet(double t) => JetTable[JetIndex(double.IsNaN(t) ? 0 : t)];

    // imagesc: index = fix((C - cmin) / (cmax - cmin) * m) + 1, clamped to 1..m (1-based).
    private static int JetIndex(double t) => (int)Math.Clamp(Math.Floor(t * JetSize), 0, JetSize - 1);

    private static byte Blend(float image, byte colour) =>
        (byte)Math.Clamp(Math.Round((1 - Alpha) * image + Alpha * colour), 0, 255);

    // MATLAB's jet.m, transcribed with 0-based indices:
    //   n = ceil(m/4); u = [(1:n)/n ones(1,n-1) (n:-1:1)/n]';
    //   g = ceil(n/2) - (mod(m,4)==1) + (1:length(u))'; r = g + n; b = g - n;
    //   J(r(r<=m),1) = u(1:...); J(g(g<=m),2) = u(1:...); J(b(b>=1),3) = u(end-...+1:end)
    private static (byte R, byte G, byte B)[] BuildJet(int m)
    {
        int n = (m + 3) / 4;
        var u = new double[3 * n - 1];
        for (var i = 0; i < n; i++) u[i] = (i + 1.0) / n;
        for (var i = n; i < 2 * n - 1; i++) u[i] = 1.0;
        for (var i = 0; i < n; i++) u[2 * n - 1 + i] = (double)(n - i) / n;

        var r = new double[m];
        var g = new double[m];
        var b = new double[m];
        int offset = (n + 1) / 2 - (m % 4 == 1 ? 1 : 0);
        var bIndices = new List<(int Row, int U)>();
        for (var k = 0; k < u.Length; k++)
        {
            int gi = offset + k + 1; // 1-based
            int ri = gi + n;
            int bi = gi - n;
            if (gi <= m) g[gi - 1] = u[k];
            if (ri <= m) r[ri - 1] = u[k];
            if (bi >= 1 && bi <= m) bIndices.Add((bi - 1, k));
        }
        // Blue takes the *last* entries of u, aligned to the end.
        int shift = u.Length - bIndices.Count;
        for (var j = 0; j < bIndices.Count; j++) b[bIndices[j].Row] = u[shift + j];

        var table = new (byte, byte, byte)[m];
        for (var i = 0; i < m; i++)
            table[i] = (ToByte(r[i]), ToByte(g[i]), ToByte(b[i]));
        return table;
    }

    private static byte ToByte(double v) => (byte)Math.Clamp(Math.Round(v * 255), 0, 255);
}
