using System.Runtime.CompilerServices;
using Lantern.Explainers.Imaging;

namespace Lantern.Explainers.Segmentation;

/// <summary>
/// SLIC superpixels (Achanta et al., "SLIC Superpixels Compared to State-of-the-Art Superpixel Methods", TPAMI 2012) as
/// skimage.segmentation.slic does them for an RGB image with its defaults: CIELAB (sRGB, D65), no pre-smoothing, centres
/// on a regular grid of step S = sqrt(pixels / segments) (no gradient perturbation), at most 10 k-means iterations with a
/// ±2S search window, distance dc²/m² + ds²/S² (m = compactness), then connectivity enforcement with segments below half
/// and above three times the mean size split off / merged.
/// </summary>
internal static class Slic
{
    private const int MaxIterations = 10;

    // Runs once per image, mostly inside long loops: compile it optimised at once rather than tier up mid-loop.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static Segmentation Segment(RgbImage image, int segments, float compactness)
    {
        int width = image.Width, height = image.Height, pixels = width * height;
        var (l, a, b) = ToLab(image, 1f / compactness); // scaled by 1/m so the colour term is dc²/m² directly

        // Grid as skimage's regular_grid: float step, first centre at floor(step / 2), integer step round(step). A thin
        // image (a side shorter than the step) puts one centre row/column across that side and spreads the rest.
        double stepY, stepX;
        double step = Math.Sqrt((double)pixels / segments);
        if (height < step) (stepY, stepX) = (height, (double)width / segments);
        else if (width < step) (stepY, stepX) = ((double)height / segments, width);
        else (stepY, stepX) = (step, step);
        int startY = (int)(stepY / 2), startX = (int)(stepX / 2);
        int gridY = Math.Max(1, (int)Math.Round(stepY)), gridX = Math.Max(1, (int)Math.Round(stepX));

        var centres = new List<double[]>(); // y, x, l, a, b
        for (var y = startY; y < height; y += gridY)
        for (var x = startX; x < width; x += gridX)
        {
            var i = y * width + x;
            centres.Add([y, x, l[i], a[i], b[i]]);
        }
        int k = centres.Count;
        var cy = new double[k];
        var cx = new double[k];
        var cl = new float[k];
        var ca = new float[k];
        var cb = new float[k];
        for (var c = 0; c < k; c++)
            (cy[c], cx[c], cl[c], ca[c], cb[c]) = (centres[c][0], centres[c][1], (float)centres[c][2], (float)centres[c][3], (float)centres[c][4]);

        // skimage uses the largest integer grid step for both the window and the spatial normalisation.
        int s = Math.Max(gridY, gridX);
        float spatial = 1f / ((float)s * s);
        var nearest = new int[pixels];
        Array.Fill(nearest, -1);
        var distance = new float[pixels];
        var sums = new double[k * 5];
        var counts = new int[k];

        for (var iteration = 0; iteration < MaxIterations; iteration++)
        {
            bool changed = false;
            Array.Fill(distance, float.PositiveInfinity);
            // Centres in index order, pixels row-major, strict '<': ties go to the lower centre, as in skimage.
            for (var c = 0; c < k; c++)
            {
                int y0 = (int)Math.Max(cy[c] - 2 * s, 0), y1 = (int)Math.Min(cy[c] + 2 * s + 1, height);
                int x0 = (int)Math.Max(cx[c] - 2 * s, 0), x1 = (int)Math.Min(cx[c] + 2 * s + 1, width);
                float ccy = (float)cy[c], ccx = (float)cx[c], lc = cl[c], ac = ca[c], bc = cb[c];
                for (var y = y0; y < y1; y++)
                {
                    float dy = y - ccy, dyy = dy * dy;
                    int row = y * width;
                    for (var x = x0; x < x1; x++)
                    {
                        int i = row + x;
                        float dx = x - ccx, dl = l[i] - lc, da = a[i] - ac, db = b[i] - bc;
                        float d = dl * dl + da * da + db * db + (dyy + dx * dx) * spatial;
                        if (d < distance[i])
                        {
                            distance[i] = d;
                            if (nearest[i] != c)
                            {
                                nearest[i] = c;
                                changed = true;
                            }
                        }
                    }
                }
            }
            if (!changed) break;

            Array.Clear(sums);
            Array.Clear(counts);
            for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                int i = y * width + x, c = nearest[i];
                if (c < 0) continue; // outside every window (only with degenerate grids)
                counts[c]++;
                var o = c * 5;
                sums[o] += y;
                sums[o + 1] += x;
                sums[o + 2] += l[i];
                sums[o + 3] += a[i];
                sums[o + 4] += b[i];
            }
            for (var c = 0; c < k; c++)
            {
                if (counts[c] == 0) continue; // an empty cluster keeps its centre (skimage would divide by zero)
                var o = c * 5;
                double n = counts[c];
                (cy[c], cx[c]) = (sums[o] / n, sums[o + 1] / n);
                (cl[c], ca[c], cb[c]) = ((float)(sums[o + 2] / n), (float)(sums[o + 3] / n), (float)(sums[o + 4] / n));
            }
        }

        double meanSize = (double)pixels / k;
        var connected = EnforceConnectivity(nearest, width, height, (int)(0.5 * meanSize), (int)(3 * meanSize));
        return new Segmentation(width, height, connected);
    }

    /// <summary>
    /// skimage's _enforce_label_connectivity_cython in 2D: pixels row-major; each unvisited pixel starts a 4-connected
    /// breadth-first flood of its label, capped at maxSize pixels (a larger region is cut into pieces). A piece smaller than
    /// minSize takes the label of the last already-labelled neighbour of its first pixel ("adjacent", as in the paper).
    /// The very first piece has no such neighbour and keeps a label of its own (skimage would give it the next piece's
    /// label).
    /// </summary>
    internal static int[] EnforceConnectivity(int[] labels, int width, int height, int minSize, int maxSize)
    {
        maxSize = Math.Max(maxSize, 1);
        var result = new int[labels.Length];
        Array.Fill(result, -1);
        var piece = new int[maxSize];
        int next = 0;
        for (var start = 0; start < labels.Length; start++)
        {
            if (result[start] >= 0) continue;
            int label = labels[start], sx = start % width;
            int adjacent = -1;
            // skimage's neighbour order (x+1, x-1, y+1, y-1), last hit wins; the same order drives the flood below.
            if (sx + 1 < width && result[start + 1] >= 0) adjacent = result[start + 1];
            if (sx > 0 && result[start - 1] >= 0) adjacent = result[start - 1];
            if (start + width < labels.Length && result[start + width] >= 0) adjacent = result[start + width];
            if (start >= width && result[start - width] >= 0) adjacent = result[start - width];

            result[start] = next;
            piece[0] = start;
            int size = 1, visited = 0;
            while (visited < size && size < maxSize)
            {
                int i = piece[visited++], x = i % width;
                if (x + 1 < width) Visit(i + 1);
                if (x > 0 && size < maxSize) Visit(i - 1);
                if (i + width < labels.Length && size < maxSize) Visit(i + width);
                if (i >= width && size < maxSize) Visit(i - width);
            }
            if (size < minSize && adjacent >= 0)
            {
                for (var j = 0; j < size; j++) result[piece[j]] = adjacent;
            }
            else
            {
                next++;
            }

            void Visit(int n)
            {
                if (labels[n] != label || result[n] >= 0) return;
                result[n] = next;
                piece[size++] = n;
            }
        }
        return result;
    }

    /// <summary>
    /// sRGB (0..255) to CIELAB under D65, with skimage's rgb2lab constants, each channel multiplied by
    /// <paramref name="factor"/>. Planar output so the assignment loop reads three contiguous arrays.
    /// </summary>
    internal static (float[] L, float[] A, float[] B) ToLab(RgbImage image, float factor)
    {
        var p = image.Pixels;
        int n = image.Width * image.Height;
        var l = new float[n];
        var a = new float[n];
        var b = new float[n];
        for (var i = 0; i < n; i++)
        {
            double r = Linear(p[3 * i] / 255.0), g = Linear(p[3 * i + 1] / 255.0), bl = Linear(p[3 * i + 2] / 255.0);
            double x = (0.412453 * r + 0.357580 * g + 0.180423 * bl) / 0.95047;
            double y = 0.212671 * r + 0.715160 * g + 0.072169 * bl;
            double z = (0.019334 * r + 0.119193 * g + 0.950227 * bl) / 1.08883;
            double fx = F(x), fy = F(y), fz = F(z);
            l[i] = (float)((116 * fy - 16) * factor);
            a[i] = (float)(500 * (fx - fy) * factor);
            b[i] = (float)(200 * (fy - fz) * factor);
        }
        return (l, a, b);

        static double Linear(double c) => c > 0.04045 ? Math.Pow((c + 0.055) / 1.055, 2.4) : c / 12.92;
        static double F(double t) => t > 0.008856 ? Math.Cbrt(t) : 7.787 * t + 16.0 / 116;
    }
}
