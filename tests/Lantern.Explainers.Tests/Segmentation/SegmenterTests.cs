using Lantern.Explainers.Imaging;
using Lantern.Explainers.Segmentation;

namespace Lantern.Explainers.Tests.Segmentation;

using Segmentation = Lantern.Explainers.Segmentation.Segmentation;

public class SegmenterTests
{
    [Fact]
    public void A_grid_of_12_on_64_by_48_is_12_equal_rectangles_covering_everything()
    {
        var segmentation = Segmenter.Segment(TestImages.Random(64, 48, seed: 1), new SegmentationParameters(SegmentationMethod.Grid, Segments: 12));

        Assert.Equal(12, segmentation.FeatureCount);
        Assert.All(segmentation.PixelCounts(), count => Assert.Equal(16 * 16, count));
        // 4 columns of 16 pixels, 3 rows of 16.
        for (var y = 0; y < 48; y++)
        for (var x = 0; x < 64; x++)
            Assert.Equal(y / 16 * 4 + x / 16, segmentation.Labels[y * 64 + x]);
    }

    [Theory]
    [InlineData(7)]
    [InlineData(50)]
    [InlineData(200)]
    public void A_grid_has_about_the_requested_number_of_cells(int segments)
    {
        var segmentation = Segmenter.Segment(TestImages.Random(224, 160, seed: 2), new SegmentationParameters(SegmentationMethod.Grid, segments));

        Assert.InRange(segmentation.FeatureCount, segments * 0.75, segments * 1.25);
        var counts = segmentation.PixelCounts();
        Assert.InRange(counts.Max() - counts.Min(), 0, counts.Max() / 4);
    }

    [Fact]
    public void Felzenszwalb_without_smoothing_finds_exactly_the_four_flat_quadrants()
    {
        var image = Quadrants.Image(80, 60, 33, 27);

        var segmentation = Segmenter.Segment(image, new SegmentationParameters(SegmentationMethod.Felzenszwalb, Sigma: 0));

        Assert.Equal(Quadrants.Labels(80, 60, 33, 27), segmentation.Labels);
    }

    [Fact]
    public void Felzenszwalb_with_smoothing_keeps_the_quadrant_edges_to_within_two_pixels_once_blur_strips_are_merged()
    {
        // Smoothing turns each edge into a band of one-pixel strips of in-between colour, linked along the edge; at the
        // default MinSize (20) the strips are segments of their own, as in skimage. A MinSize above the band's size folds
        // them into neighbouring quadrants.
        var image = Quadrants.Image(80, 60, 33, 27);

        var segmentation = Segmenter.Segment(image, new SegmentationParameters(SegmentationMethod.Felzenszwalb, MinSize: 300));

        Assert.Equal(4, segmentation.FeatureCount);
        AssertOnQuadrantsWithin(segmentation, 33, 27, pixels: 2);
    }

    [Fact]
    public void Slic_with_four_segments_puts_its_boundaries_on_the_quadrant_edges()
    {
        var image = Quadrants.Image(80, 60, 40, 30);

        var segmentation = Segmenter.Segment(image, new SegmentationParameters(SegmentationMethod.Slic, Segments: 4));

        Assert.Equal(4, segmentation.FeatureCount);
        AssertOnQuadrantsWithin(segmentation, 40, 30, pixels: 2);
    }

    /// <summary>Every pixel further than <paramref name="pixels"/> from a quadrant edge has its quadrant's label.</summary>
    private static void AssertOnQuadrantsWithin(Segmentation segmentation, int splitX, int splitY, int pixels)
    {
        int w = segmentation.Width, h = segmentation.Height;
        var expected = Quadrants.Labels(w, h, splitX, splitY);
        for (var y = 0; y < h; y++)
        for (var x = 0; x < w; x++)
        {
            bool nearEdge = x >= splitX - pixels && x < splitX + pixels || y >= splitY - pixels && y < splitY + pixels;
            if (!nearEdge && expected[y * w + x] != segmentation.Labels[y * w + x])
                Assert.Fail($"pixel ({x}, {y}) is in feature {segmentation.Labels[y * w + x]}, not quadrant {expected[y * w + x]}");
        }
    }

    public static TheoryData<SegmentationMethod> Methods => [SegmentationMethod.Grid, SegmentationMethod.Slic, SegmentationMethod.Felzenszwalb];

    [Theory]
    [MemberData(nameof(Methods))]
    public void Every_method_numbers_canonically_and_uses_every_label(SegmentationMethod method)
    {
        var segmentation = Segmenter.Segment(Smooth(96, 72), new SegmentationParameters(method, Segments: 20));

        Assert.Equal(0, segmentation.Labels[0]);
        int seen = 0;
        foreach (var label in segmentation.Labels)
        {
            Assert.InRange(label, 0, seen); // a new label is always the next number
            if (label == seen) seen++;
        }
        Assert.Equal(segmentation.FeatureCount, seen);
        Assert.All(segmentation.PixelCounts(), count => Assert.True(count > 0));
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void Every_method_gives_the_same_labels_for_the_same_image(SegmentationMethod method)
    {
        var parameters = new SegmentationParameters(method, Segments: 30);

        var first = Segmenter.Segment(TestImages.Random(90, 70, seed: 3), parameters);
        var second = Segmenter.Segment(TestImages.Random(90, 70, seed: 3), parameters);

        Assert.Equal(first.Labels, second.Labels);
    }

    [Fact]
    public void Slic_superpixels_are_connected()
    {
        var segmentation = Segmenter.Segment(Smooth(120, 90), new SegmentationParameters(SegmentationMethod.Slic, Segments: 30));

        Assert.InRange(segmentation.FeatureCount, 15, 45);
        Assert.Equal(segmentation.FeatureCount, CountConnectedRegions(segmentation));
    }

    [Fact]
    public void Felzenszwalb_merges_segments_below_the_minimum_size()
    {
        var segmentation = Segmenter.Segment(TestImages.Random(60, 40, seed: 4),
            new SegmentationParameters(SegmentationMethod.Felzenszwalb, MinSize: 50));

        Assert.All(segmentation.PixelCounts(), count => Assert.True(count >= 50, $"a segment of {count} pixels"));
    }

    [Theory]
    [InlineData(SegmentationMethod.Grid, 0, 10f, 100f, 0.8f, 20, "Segments must be at least 1, got 0")]
    [InlineData(SegmentationMethod.Slic, -5, 10f, 100f, 0.8f, 20, "Segments must be at least 1, got -5")]
    [InlineData(SegmentationMethod.Slic, 99999, 10f, 100f, 0.8f, 20, "Segments must be at most the number of pixels (1200 in a 40x30 image), got 99999")]
    [InlineData(SegmentationMethod.Slic, 10, 0f, 100f, 0.8f, 20, "Compactness must be a positive number, got 0")]
    [InlineData(SegmentationMethod.Felzenszwalb, 10, 10f, -1f, 0.8f, 20, "Scale must be a positive number, got -1")]
    [InlineData(SegmentationMethod.Felzenszwalb, 10, 10f, 100f, -0.5f, 20, "Sigma must be 0 (no smoothing) or a positive number, got -0.5")]
    [InlineData(SegmentationMethod.Felzenszwalb, 10, 10f, 100f, 0.8f, -1, "MinSize must be 0 or more pixels, got -1")]
    [InlineData((SegmentationMethod)9, 10, 10f, 100f, 0.8f, 20, "unknown segmentation method 9; use Grid, Slic or Felzenszwalb")]
    public void Bad_parameters_are_rejected_with_a_message_that_says_what_to_use(
        SegmentationMethod method, int segments, float compactness, float scale, float sigma, int minSize, string message)
    {
        var parameters = new SegmentationParameters(method, segments, compactness, scale, sigma, minSize);

        var error = Assert.Throws<ArgumentException>(() => Segmenter.Segment(TestImages.Random(40, 30, seed: 5), parameters));
        Assert.StartsWith(message, error.Message);
    }

    /// <summary>Smooth colour gradients with a bright disc: something for the segmenters to find, unlike noise.</summary>
    private static RgbImage Smooth(int width, int height)
    {
        var pixels = new float[width * height * 3];
        for (var y = 0; y < height; y++)
        for (var x = 0; x < width; x++)
        {
            int o = (y * width + x) * 3;
            bool disc = (x - width / 3) * (x - width / 3) + (y - height / 2) * (y - height / 2) < height * height / 9;
            pixels[o] = disc ? 250 : 255f * x / width;
            pixels[o + 1] = disc ? 240 : 255f * y / height;
            pixels[o + 2] = disc ? 20 : 128 + 100 * MathF.Sin(x * 0.1f);
        }
        return new RgbImage(width, height, pixels);
    }

    private static int CountConnectedRegions(Segmentation segmentation)
    {
        int w = segmentation.Width, h = segmentation.Height;
        var labels = segmentation.Labels;
        var seen = new bool[labels.Length];
        int regions = 0;
        var stack = new Stack<int>();
        for (var start = 0; start < labels.Length; start++)
        {
            if (seen[start]) continue;
            regions++;
            seen[start] = true;
            stack.Push(start);
            while (stack.TryPop(out var i))
            {
                int x = i % w, y = i / w;
                foreach (var (nx, ny) in new[] { (x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1) })
                {
                    if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
                    int n = ny * w + nx;
                    if (seen[n] || labels[n] != labels[i]) continue;
                    seen[n] = true;
                    stack.Push(n);
                }
            }
        }
        return regions;
    }
}
