using System.Runtime.CompilerServices;
using Lantern.Explainers.Imaging;

namespace Lantern.Explainers.Segmentation;

/// <summary>
/// Graph-based segmentation (Felzenszwalb &amp; Huttenlocher, "Efficient Graph-Based Image Segmentation", IJCV 2004) as
/// skimage.segmentation.felzenszwalb does it: colours in 0..1, Gaussian pre-smoothing (sigma, truncated at 4 sigma,
/// mirrored edges), 8-connected grid graph weighted by the Euclidean RGB distance, edges in increasing weight; two
/// components merge when the edge is lighter than both Int(C) + k/|C| with k = scale/255; then components under MinSize
/// are merged along the remaining edges in the same order. Union-find by size with path halving.
/// </summary>
internal static class Felzenszwalb
{
    // Edge codes are pixel * 4 + direction in an int.
    private const int MaxPixels = int.MaxValue / 4;

    // Runs once per image, mostly inside long loops: compile it optimised at once rather than tier up mid-loop.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static Segmentation Segment(RgbImage image, float scale, float sigma, int minSize)
    {
        int width = image.Width, height = image.Height, pixels = width * height;
        if (pixels > MaxPixels)
            throw new ArgumentException(
                $"Felzenszwalb segments images of up to {MaxPixels} pixels, got {width}x{height}; downscale the image first");
        var colours = new float[pixels * 3];
        for (var i = 0; i < colours.Length; i++) colours[i] = image.Pixels[i] / 255f;
        if (sigma > 0) colours = Smooth(colours, width, height, sigma);

        // Edges in skimage's order (right, down, down-right, up-right), each coded as pixel * 4 + direction. A stable sort
        // keeps that order among equal weights, so the result does not depend on the sort algorithm (skimage's argsort is
        // unstable: ties may go either way there). Sorting the codes and weights themselves, not an index into them,
        // keeps the two merge passes reading memory in sequence.
        int[] toOffset = [-1, -width, -width - 1, width - 1];
        var (codes, weights) = Edges(colours, width, height, toOffset);
        SortByWeight(ref codes, ref weights);

        var parent = new int[pixels];
        for (var i = 0; i < pixels; i++) parent[i] = i;
        var size = new int[pixels];
        Array.Fill(size, 1);
        var inner = new float[pixels]; // Int(C): the heaviest edge of C's minimum spanning tree, by Kruskal order
        float k = scale / 255f;

        for (var i = 0; i < codes.Length; i++)
        {
            int p = codes[i] >> 2, q = p + toOffset[codes[i] & 3];
            int a = Find(parent, p), b = Find(parent, q);
            if (a == b) continue;
            float weight = BitConverter.UInt32BitsToSingle(weights[i]);
            if (weight < Math.Min(inner[a] + k / size[a], inner[b] + k / size[b]))
                inner[Union(parent, size, a, b)] = weight;
        }
        for (var i = 0; i < codes.Length; i++)
        {
            int p = codes[i] >> 2, q = p + toOffset[codes[i] & 3];
            int a = Find(parent, p), b = Find(parent, q);
            if (a != b && (size[a] < minSize || size[b] < minSize))
                Union(parent, size, a, b);
        }

        var labels = new int[pixels];
        for (var i = 0; i < pixels; i++) labels[i] = Find(parent, i);
        return new Segmentation(width, height, labels);
    }

    /// <summary>Every 8-neighbour pair once, as (pixel * 4 + direction, weight bits); a non-negative float's bit pattern
    /// orders like its value.</summary>
    private static (int[] Codes, uint[] Weights) Edges(float[] colours, int width, int height, int[] toOffset)
    {
        long count = (long)(width - 1) * height + (long)width * (height - 1) + 2L * (width - 1) * (height - 1);
        var codes = new int[count];
        var weights = new uint[count];
        int e = 0;
        for (var y = 0; y < height; y++)
        for (var x = 1; x < width; x++) Add(y * width + x, 0);
        for (var y = 1; y < height; y++)
        for (var x = 0; x < width; x++) Add(y * width + x, 1);
        for (var y = 1; y < height; y++)
        for (var x = 1; x < width; x++) Add(y * width + x, 2);
        for (var y = 0; y < height - 1; y++)
        for (var x = 1; x < width; x++) Add(y * width + x, 3);
        return (codes, weights);

        void Add(int p, int direction)
        {
            int a = p * 3, b = (p + toOffset[direction]) * 3;
            float d0 = colours[a] - colours[b], d1 = colours[a + 1] - colours[b + 1], d2 = colours[a + 2] - colours[b + 2];
            codes[e] = p * 4 + direction;
            weights[e] = BitConverter.SingleToUInt32Bits(MathF.Sqrt(d0 * d0 + d1 * d1 + d2 * d2));
            e++;
        }
    }

    /// <summary>
    /// Stable sort of the edges by weight: a least-significant-digit radix sort (three counting passes of 11, 11 and 10
    /// bits), several times faster than a comparison sort of millions of edges.
    /// </summary>
    private static void SortByWeight(ref int[] codes, ref uint[] weights)
    {
        int n = codes.Length;
        var codesOut = new int[n];
        var weightsOut = new uint[n];
        var counts = new int[1 << 11];
        for (var shift = 0; shift < 32; shift += 11)
        {
            Array.Clear(counts);
            foreach (var w in weights) counts[(int)((w >> shift) & 0x7FF)]++;
            int total = 0;
            for (var d = 0; d < counts.Length; d++) (counts[d], total) = (total, total + counts[d]);
            for (var i = 0; i < n; i++)
            {
                int to = counts[(int)((weights[i] >> shift) & 0x7FF)]++;
                codesOut[to] = codes[i];
                weightsOut[to] = weights[i];
            }
            (codes, codesOut) = (codesOut, codes);
            (weights, weightsOut) = (weightsOut, weights);
        }
    }

    /// <summary>Root of i's tree, halving the path on the way (every other node points to its grandparent).</summary>
    private static int Find(int[] parent, int i)
    {
        while (parent[i] != i)
        {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        return i;
    }

    /// <summary>Joins two roots, the smaller tree under the larger (ties: under the lower index), and returns the new
    /// root. skimage roots at the lower index instead; which pixel is the root changes no decision, only tree depth.</summary>
    private static int Union(int[] parent, int[] size, int a, int b)
    {
        var (root, child) = size[a] > size[b] || (size[a] == size[b] && a < b) ? (a, b) : (b, a);
        parent[child] = root;
        size[root] += size[child];
        return root;
    }

    /// <summary>
    /// scipy.ndimage.gaussian_filter per channel: separable, radius = (int)(4 sigma + 0.5), weights normalised, mode
    /// 'reflect' (the edge pixel repeated: d c b a | a b c d). Sums in double in a fixed order.
    /// </summary>
    private static float[] Smooth(float[] src, int width, int height, float sigma)
    {
        int radius = (int)(4.0 * sigma + 0.5);
        var kernel = new double[2 * radius + 1];
        double total = 0;
        for (var j = -radius; j <= radius; j++) total += kernel[j + radius] = Math.Exp(-0.5 * j * j / ((double)sigma * sigma));
        for (var j = 0; j < kernel.Length; j++) kernel[j] /= total;

        var horizontal = new float[src.Length];
        Pass(src, horizontal, lines: height, lineStep: width * 3, step: 3, length: width, kernel);
        var both = new float[src.Length];
        Pass(horizontal, both, lines: width, lineStep: 3, step: width * 3, length: height, kernel);
        return both;
    }

    /// <summary>One 1D pass along an axis of <paramref name="length"/> pixels, <paramref name="step"/> floats apart;
    /// <paramref name="lines"/> such lines, <paramref name="lineStep"/> floats apart.</summary>
    private static void Pass(float[] src, float[] dst, int lines, int lineStep, int step, int length, double[] kernel)
    {
        int radius = kernel.Length / 2;
        for (var line = 0; line < lines; line++)
        {
            int origin = line * lineStep;
            for (var at = 0; at < length; at++)
            {
                double r = 0, g = 0, b = 0;
                for (var j = -radius; j <= radius; j++)
                {
                    int i = origin + Reflect(at + j, length) * step;
                    double w = kernel[j + radius];
                    r += w * src[i];
                    g += w * src[i + 1];
                    b += w * src[i + 2];
                }
                int o = origin + at * step;
                (dst[o], dst[o + 1], dst[o + 2]) = ((float)r, (float)g, (float)b);
            }
        }
    }

    private static int Reflect(int i, int length)
    {
        // Period 2*length: 0..length-1 forwards, then the same backwards.
        int period = 2 * length;
        i %= period;
        if (i < 0) i += period;
        return i < length ? i : period - 1 - i;
    }
}
