using Lantern.Explainers.Sampling;

namespace Lantern.Explainers.Rise;

/// <summary>
/// Mask <c>index</c> of RISE, as the authors' generate_masks, from <c>new CounterRandom(seed, index)</c>:
/// cell (r, c) of the Cells×Cells grid is on when Double(r·Cells + c) &lt; Density; the grid is upsampled bilinearly to
/// (Cells+1)·cellH × (Cells+1)·cellW with cellW = ⌈W/Cells⌉, cellH = ⌈H/Cells⌉ (half-pixel centres and mirrored edges, as
/// skimage's resize(order=1, mode='reflect', anti_aliasing=False)), and cropped to W×H at the shift
/// (⌊Double(Cells²)·cellW⌋, ⌊Double(Cells²+1)·cellH⌋). Values are in [0, 1] and each pixel's mean over masks is Density,
/// because bilinear weights sum to 1.
/// </summary>
public static class RiseMasks
{
    /// <summary>Writes mask <paramref name="index"/> (Width*Height floats, row-major) into <paramref name="mask"/>.</summary>
    public static void Mask(RiseParameters p, int width, int height, long index, Span<float> mask)
    {
        ArgumentNullException.ThrowIfNull(p);
        p.Validate();
        if (width < 1 || height < 1)
            throw new ArgumentException($"image must be at least 1x1, got {width}x{height}");
        if (index < 0 || index >= p.Samples)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"RISE draws {p.Samples} masks");
        if (mask.Length != width * height)
            throw new ArgumentException($"mask must hold {width * height} values, got {mask.Length}", nameof(mask));

        int cells = p.Cells;
        var random = new CounterRandom(p.Seed, index);
        Span<float> grid = cells * cells <= 1024 ? stackalloc float[cells * cells] : new float[cells * cells];
        for (var n = 0; n < grid.Length; n++)
            grid[n] = random.Double(n) < p.Density ? 1f : 0f;

        int cellW = (width + cells - 1) / cells, cellH = (height + cells - 1) / cells;
        int shiftX = Math.Min(cellW - 1, (int)(random.Double(grid.Length) * cellW));
        int shiftY = Math.Min(cellH - 1, (int)(random.Double(grid.Length + 1) * cellH));
        int upW = (cells + 1) * cellW, upH = (cells + 1) * cellH;

        // Each column's source cells and weight, once per mask rather than once per pixel: the same values, W + H calls not W·H.
        Span<int> low = width <= 1024 ? stackalloc int[width] : new int[width];
        Span<int> high = width <= 1024 ? stackalloc int[width] : new int[width];
        Span<double> weight = width <= 1024 ? stackalloc double[width] : new double[width];
        for (var x = 0; x < width; x++) (low[x], high[x], weight[x]) = Source(x + shiftX, upW, cells);

        for (var y = 0; y < height; y++)
        {
            var (y0, y1, fy) = Source(y + shiftY, upH, cells);
            for (var x = 0; x < width; x++)
            {
                var (x0, x1, fx) = (low[x], high[x], weight[x]);
                double top = grid[y0 * cells + x0] + fx * (grid[y0 * cells + x1] - grid[y0 * cells + x0]);
                double bottom = grid[y1 * cells + x0] + fx * (grid[y1 * cells + x1] - grid[y1 * cells + x0]);
                mask[y * width + x] = (float)(top + fy * (bottom - top));
            }
        }
    }

    /// <summary>
    /// Output pixel <paramref name="o"/> of a resize from <paramref name="cells"/> to <paramref name="size"/> samples: the
    /// two neighbouring grid indices and the weight of the second. Source coordinate (o + ½)·cells/size − ½, mirrored about
    /// 0 and cells − 1 (ndimage 'mirror', what skimage calls 'reflect').
    /// </summary>
    private static (int Low, int High, double Fraction) Source(int o, int size, int cells)
    {
        if (cells == 1) return (0, 0, 0);
        double u = (o + 0.5) * cells / size - 0.5;
        double last = cells - 1;
        if (u < 0) u = -u;
        if (u > last) u = 2 * last - u;
        int low = Math.Min((int)Math.Floor(u), cells - 2);
        return (low, low + 1, u - low);
    }
}
