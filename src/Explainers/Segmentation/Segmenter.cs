using Lantern.Explainers.Imaging;

namespace Lantern.Explainers.Segmentation;

public static class Segmenter
{
    /// <summary>
    /// Grid: a regular grid of about <c>Segments</c> cells (MATLAB imageLIME Segmentation="grid"); Slic: SLIC superpixels
    /// (Achanta et al. 2012) in CIELAB with <c>Segments</c> and <c>Compactness</c> (as skimage.segmentation.slic, enforce
    /// connectivity); Felzenszwalb: graph-based (Felzenszwalb &amp; Huttenlocher 2004) with Scale, Sigma (Gaussian
    /// pre-smoothing), MinSize (as skimage.segmentation.felzenszwalb). Deterministic (no randomness, fixed iteration order).
    /// Throws <see cref="ArgumentException"/> with a user-facing message for bad parameters.
    /// </summary>
    public static Segmentation Segment(RgbImage image, SegmentationParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(parameters);
        var p = parameters;
        switch (p.Method)
        {
            case SegmentationMethod.Grid:
                CheckSegments(image, p.Segments);
                return Grid(image.Width, image.Height, p.Segments);
            case SegmentationMethod.Slic:
                CheckSegments(image, p.Segments);
                if (!(p.Compactness > 0) || !float.IsFinite(p.Compactness))
                    throw new ArgumentException($"Compactness must be a positive number, got {p.Compactness}", nameof(parameters));
                return Slic.Segment(image, p.Segments, p.Compactness);
            case SegmentationMethod.Felzenszwalb:
                if (!(p.Scale > 0) || !float.IsFinite(p.Scale))
                    throw new ArgumentException($"Scale must be a positive number, got {p.Scale}", nameof(parameters));
                if (!(p.Sigma >= 0) || !float.IsFinite(p.Sigma))
                    throw new ArgumentException($"Sigma must be 0 (no smoothing) or a positive number, got {p.Sigma}", nameof(parameters));
                if (p.MinSize < 0)
                    throw new ArgumentException($"MinSize must be 0 or more pixels, got {p.MinSize}", nameof(parameters));
                return Felzenszwalb.Segment(image, p.Scale, p.Sigma, p.MinSize);
            default:
                throw new ArgumentException(
                    $"unknown segmentation method {p.Method}; use Grid, Slic or Felzenszwalb", nameof(parameters));
        }
    }

    private static void CheckSegments(RgbImage image, int segments)
    {
        if (segments < 1)
            throw new ArgumentException($"Segments must be at least 1, got {segments}", nameof(segments));
        long pixels = (long)image.Width * image.Height;
        if (segments > pixels)
            throw new ArgumentException(
                $"Segments must be at most the number of pixels ({pixels} in a {image.Width}x{image.Height} image), got {segments}",
                nameof(segments));
    }

    /// <summary>
    /// Columns ≈ sqrt(segments * width / height) so cells come out near square, rows ≈ segments / columns (each at least 1
    /// and at most the image's size in pixels). Cell edges sit at floor(i * size / count), so cells differ by at most one
    /// pixel per axis. Labels are row * columns + column: already canonical.
    /// </summary>
    internal static Segmentation Grid(int width, int height, int segments)
    {
        int columns = Math.Clamp((int)Math.Round(Math.Sqrt((double)segments * width / height)), 1, width);
        int rows = Math.Clamp((int)Math.Round((double)segments / columns), 1, height);
        var columnOf = new int[width];
        for (var x = 0; x < width; x++) columnOf[x] = (int)((long)x * columns / width);
        var labels = new int[width * height];
        for (var y = 0; y < height; y++)
        {
            int row = (int)((long)y * rows / height) * columns;
            for (var x = 0; x < width; x++) labels[y * width + x] = row + columnOf[x];
        }
        return new Segmentation(width, height, labels);
    }
}
