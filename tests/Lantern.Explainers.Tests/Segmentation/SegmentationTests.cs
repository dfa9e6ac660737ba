using Lantern.Explainers.Imaging;

namespace Lantern.Explainers.Tests.Segmentation;

// Inside a namespace named ...Segmentation the bare name means the namespace; the alias, declared in this namespace,
// is found first.
using Segmentation = Lantern.Explainers.Segmentation.Segmentation;

public class SegmentationTests
{
    [Fact]
    public void Labels_are_renumbered_in_raster_order_of_first_appearance()
    {
        var segmentation = new Segmentation(3, 2, [7, 7, -3, 100, -3, 7]);

        Assert.Equal([0, 0, 1, 2, 1, 0], segmentation.Labels);
        Assert.Equal(3, segmentation.FeatureCount);
        Assert.Equal([3, 2, 1], segmentation.PixelCounts());
    }

    [Fact]
    public void The_callers_labels_are_not_modified()
    {
        int[] labels = [5, 5, 2, 2];
        _ = new Segmentation(2, 2, labels);

        Assert.Equal([5, 5, 2, 2], labels);
    }

    [Fact]
    public void Labels_of_the_wrong_length_are_rejected()
    {
        var error = Assert.Throws<ArgumentException>(() => new Segmentation(3, 2, new int[5]));
        Assert.StartsWith("a 3x2 segmentation needs 6 labels, got 5", error.Message);
    }

    [Fact]
    public void Bytes_round_trip_to_the_same_segmentation()
    {
        var segmentation = new Segmentation(4, 3, [0, 0, 1, 1, 2, 2, 1, 1, 2, 3, 3, 1]);

        var bytes = segmentation.ToBytes();
        var back = Segmentation.FromBytes(bytes);

        Assert.Equal(8 + 4 * 12, bytes.Length);
        Assert.Equal([4, 0, 0, 0, 3, 0, 0, 0], bytes[..8]);
        Assert.Equal((4, 3, 4), (back.Width, back.Height, back.FeatureCount));
        Assert.Equal(segmentation.Labels, back.Labels);
    }

    [Fact]
    public void Truncated_bytes_are_rejected_with_the_expected_size()
    {
        var bytes = new Segmentation(4, 3, new int[12]).ToBytes();

        var error = Assert.Throws<ArgumentException>(() => Segmentation.FromBytes(bytes[..^4]));
        Assert.StartsWith("a stored 4x3 segmentation is 56 bytes, got 52", error.Message);
    }

    [Fact]
    public void The_mean_colour_of_a_flat_region_is_its_colour()
    {
        var image = Quadrants.Image(10, 8, 4, 5);
        var segmentation = new Segmentation(10, 8, Quadrants.Labels(10, 8, 4, 5));

        var means = segmentation.MeanColours(image);

        Assert.Equal(Quadrants.Colours.SelectMany(c => c), means);
    }
}
