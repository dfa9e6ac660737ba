using Lantern.Explainers.Imaging;
using Lantern.Explainers.Metrics;
using Lantern.Explainers.Occlusion;

namespace Lantern.Explainers.Tests.Metrics;

public class MetricPerturberTests
{
    [Fact]
    public void Pixels_are_ordered_by_value_descending_with_ties_and_NaN_in_pixel_order()
    {
        Assert.Equal([3, 1, 4, 0, 2, 5], PixelOrder.Descending([0f, 2f, 0f, 5f, 2f, float.NaN]));
    }

    [Fact]
    public void Step_k_changes_floor_of_k_N_over_steps_pixels_from_none_to_all()
    {
        Assert.Equal([0, 3, 6, 10], Enumerable.Range(0, 4).Select(k => PixelOrder.ChangedAt(k, 3, 10)));
    }

    [Fact]
    public void The_auc_is_the_trapezoid_rule_over_the_fraction_zero_to_one()
    {
        Assert.Equal(0.5, MetricCurves.Auc([1f, 0f]), 12);
        Assert.Equal((1 + 0.5) / 2 / 2 + 0.5 / 2 / 2, MetricCurves.Auc([1f, 0.5f, 0f]), 12);
        Assert.Equal(3.0, MetricCurves.Auc([3f, 3f, 3f, 3f]), 12);
    }

    [Fact]
    public void Each_point_is_the_image_with_the_first_pixels_deleted_or_inserted_in_the_maps_order()
    {
        const int width = 5, height = 4, steps = 4;
        var image = TestImages.Random(width, height, seed: 3);
        var preprocessor = new ImagePreprocessor(width, height, TestImages.Stretch(width, height));
        var map = new float[width * height];
        for (var p = 0; p < map.Length; p++) map[p] = (p * 7) % 11;
        var perturber = new MetricPerturber(image, preprocessor, [map], [MetricKind.Deletion, MetricKind.Insertion], steps,
            new OcclusionFill(FillKind.Constant, 10, 20, 30), new OcclusionFill(FillKind.Zero));
        var order = PixelOrder.Descending(map);
        var actual = new float[preprocessor.TensorLength];

        Assert.Equal(2 * (steps + 1), perturber.Count);
        for (var metric = 0; metric < 2; metric++)
        for (var k = 0; k <= steps; k++)
        {
            var changed = order.Take(PixelOrder.ChangedAt(k, steps, map.Length)).ToHashSet();
            var expected = new float[image.Pixels.Length];
            for (var p = 0; p < map.Length; p++)
            for (var c = 0; c < 3; c++)
            {
                var original = image.Pixels[3 * p + c];
                expected[3 * p + c] = metric == 0
                    ? changed.Contains(p) ? 10 * (c + 1) : original
                    : changed.Contains(p) ? original : 0;
            }

            perturber.Write(metric * (steps + 1) + k, actual);

            TestImages.AssertBitIdentical(TestImages.Preprocess(preprocessor, expected), actual, $"metric {metric} point {k}");
        }
    }
}
