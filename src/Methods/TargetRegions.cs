using Lantern.Contracts.Messages;

namespace Lantern.Methods;

/// <summary>
/// A job's targets as the cluster numbers them: a class index (≥ 0), or −1 − r for region r of a segmentation output
/// (the sum of one class's scores over a rectangle of the [classes, H, W] output). One place turns either into a
/// score of an output row, a seed for a gradient model, and the class and name a person sees.
/// </summary>
public static class TargetRegions
{
    public static bool IsRegion(int target) => target < 0;

    public static int RegionIndex(int target) => -1 - target;

    public static int RegionTarget(int regionIndex) => -1 - regionIndex;

    /// <summary>The class a target explains (for a region, its class).</summary>
    public static int ClassOf(this JobSpec spec, int target) =>
        IsRegion(target) ? spec.Targets.Regions[RegionIndex(target)].ClassIndex : target;

    /// <summary>1 + the region's index for a region target, 0 for a class target (AttributionMap.region).</summary>
    public static int RegionNumber(int target) => IsRegion(target) ? RegionIndex(target) + 1 : 0;

    public static string Describe(this JobSpec spec, int target)
    {
        var label = spec.LabelOf(spec.ClassOf(target));
        if (!IsRegion(target)) return label;
        var r = spec.Targets.Regions[RegionIndex(target)];
        return $"{label} over ({r.X},{r.Y}) {r.Width}x{r.Height}".Trim();
    }

    /// <summary>The target's score in one output row laid out as <paramref name="shape"/> ([classes, H, W] for regions).</summary>
    public static float Score(this JobSpec spec, int target, ReadOnlySpan<float> output, IReadOnlyList<long> shape)
    {
        if (!IsRegion(target)) return output[target];
        var (offset, width, x, y, w, h) = Rectangle(spec.Targets.Regions[RegionIndex(target)], shape);
        var sum = 0.0;
        for (var row = y; row < y + h; row++)
            for (var col = x; col < x + w; col++)
                sum += output[offset + row * width + col];
        return (float)sum;
    }

    /// <summary>Writes the target's weights over a target tensor of <paramref name="shape"/> into a zeroed seed row.</summary>
    public static void WriteSeed(this JobSpec spec, int target, Span<float> seed, IReadOnlyList<long> shape)
    {
        if (!IsRegion(target))
        {
            seed[target] = 1f;
            return;
        }
        var (offset, width, x, y, w, h) = Rectangle(spec.Targets.Regions[RegionIndex(target)], shape);
        for (var row = y; row < y + h; row++)
            seed.Slice(offset + row * width + x, w).Fill(1f);
    }

    /// <summary>Whole map when width and height are 0; the gateway has checked the rectangle lies inside the map.</summary>
    private static (int Offset, int Width, int X, int Y, int W, int H) Rectangle(Region region, IReadOnlyList<long> shape)
    {
        if (shape.Count != 3) throw new ArgumentException($"a region target needs a [classes, H, W] output, got [{string.Join(',', shape)}]");
        var (height, width) = ((int)shape[1], (int)shape[2]);
        var (w, h) = region.Width == 0 && region.Height == 0 ? (width, height) : (region.Width, region.Height);
        return (region.ClassIndex * height * width, width, region.X, region.Y, w, h);
    }
}
