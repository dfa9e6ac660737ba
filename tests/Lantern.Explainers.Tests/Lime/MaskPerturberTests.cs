using Lantern.Explainers.Imaging;
using Lantern.Explainers.Lime;

namespace Lantern.Explainers.Tests.Lime;

public class MaskPerturberTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Each_LIME_tensor_equals_preprocessing_the_painted_image_within_float_rounding(bool downscaleAndCrop)
    {
        // The perturber adds precomputed per-feature contributions instead of preprocessing the painted image; with a
        // downscale, neighbouring features' resampling footprints overlap, so elements get several contributions.
        var seg = LimeTestData.Grid(columns: 4, rows: 3, cell: 6);
        var image = TestImages.Random(seg.Width, seg.Height, seed: 3);
        var preprocessor = new ImagePreprocessor(seg.Width, seg.Height,
            downscaleAndCrop ? TestImages.CenterCrop(9, 7, shorterSide: 8) : TestImages.Stretch(10, 8));
        var hide = seg.MeanColours(image);
        var perturber = new LimePerturber(image, seg, hide, preprocessor, seed: 17);

        var mask = new bool[seg.FeatureCount];
        var actual = new float[preprocessor.TensorLength];
        for (long i = 0; i < 20; i++)
        {
            LimeSampler.Mask(17, i, seg.FeatureCount, mask);
            var painted = (float[])image.Pixels.Clone();
            for (var p = 0; p < seg.Labels.Length; p++)
            {
                int f = seg.Labels[p];
                if (mask[f]) continue;
                for (var c = 0; c < 3; c++) painted[3 * p + c] = hide[3 * f + c];
            }

            perturber.Write(i, actual);

            var expected = TestImages.Preprocess(preprocessor, painted);
            for (var k = 0; k < expected.Length; k++)
                Assert.True(Math.Abs(expected[k] - actual[k]) <= 1e-5f * Math.Max(1f, Math.Abs(expected[k])),
                    $"sample {i}, element {k}: expected {expected[k]}, got {actual[k]}");
        }
    }

    [Fact]
    public void Each_tensor_is_the_image_plus_each_hidden_features_contribution_added_in_feature_order_bit_for_bit()
    {
        // What the worker's inputs are, exactly: preprocess(image), then for each hidden feature in index order, one float
        // addition of [preprocess(image with only that feature painted) − preprocess(image)] where that is not zero.
        // Cells of 20 pixels make runs of consecutive elements longer than a vector; the downscale makes features overlap.
        var seg = LimeTestData.Grid(columns: 4, rows: 3, cell: 20);
        var image = TestImages.Random(seg.Width, seg.Height, seed: 8);
        var preprocessor = new ImagePreprocessor(seg.Width, seg.Height, TestImages.Stretch(61, 47));
        var hide = seg.MeanColours(image);
        var perturber = new LimePerturber(image, seg, hide, preprocessor, seed: 2);
        var unperturbed = TestImages.Preprocess(preprocessor, image.Pixels);
        var alone = Enumerable.Range(0, seg.FeatureCount).Select(f =>
        {
            var painted = (float[])image.Pixels.Clone();
            for (var p = 0; p < seg.Labels.Length; p++)
                if (seg.Labels[p] == f)
                    for (var c = 0; c < 3; c++) painted[3 * p + c] = hide[3 * f + c];
            return TestImages.Preprocess(preprocessor, painted);
        }).ToList();

        var mask = new bool[seg.FeatureCount];
        var actual = new float[preprocessor.TensorLength];
        for (long i = 0; i < 12; i++)
        {
            LimeSampler.Mask(2, i, seg.FeatureCount, mask);
            var expected = (float[])unperturbed.Clone();
            for (var f = 0; f < seg.FeatureCount; f++)
            {
                if (mask[f]) continue;
                for (var k = 0; k < expected.Length; k++)
                    if (alone[f][k] != unperturbed[k]) expected[k] += alone[f][k] - unperturbed[k];
            }
            perturber.Write(i, actual);
            TestImages.AssertBitIdentical(expected, actual, $"sample {i}");
        }
    }

    [Fact]
    public void The_same_sample_gives_the_same_bits_from_any_perturber()
    {
        var seg = LimeTestData.Grid(columns: 5, rows: 4, cell: 5);
        var image = TestImages.Random(seg.Width, seg.Height, seed: 4);
        var preprocessor = new ImagePreprocessor(seg.Width, seg.Height, TestImages.CenterCrop(11, 9, shorterSide: 12));
        var hide = seg.MeanColours(image);
        var first = new LimePerturber(image, seg, hide, preprocessor, seed: 5);
        var second = new LimePerturber(image, seg, hide, preprocessor, seed: 5);
        var a = new float[preprocessor.TensorLength];
        var b = new float[preprocessor.TensorLength];

        for (long i = 30; i >= 0; i -= 3) // any order: a worker may rebuild any sample alone
        {
            first.Write(i, a);
            second.Write(30 - i, b);
            second.Write(i, b);
            TestImages.AssertBitIdentical(a, b, $"sample {i}");
        }
    }

    [Fact]
    public void Sample_0_is_the_unperturbed_image()
    {
        var seg = LimeTestData.Grid(3, 3, 5);
        var image = TestImages.Random(15, 15, seed: 1);
        var preprocessor = new ImagePreprocessor(15, 15, TestImages.Stretch(15, 15));
        var perturber = new MaskPerturber(image, seg, FeaturePainter.ConstantHideColours(9, 0, 0, 0), preprocessor, new LimeMasks(1, 9));

        var actual = new float[perturber.TensorLength];
        perturber.Write(0, actual);

        TestImages.AssertBitIdentical(TestImages.Preprocess(preprocessor, image.Pixels), actual);
    }

    [Fact]
    public void Hidden_features_take_their_hide_colour_and_kept_ones_keep_the_image()
    {
        var seg = LimeTestData.Grid(columns: 2, rows: 1, cell: 3);
        var image = TestImages.Random(6, 3, seed: 2);
        float[] hide = [10, 20, 30, 40, 50, 60];
        var destination = new float[image.Pixels.Length];

        FeaturePainter.Paint(image, seg, hide, [true, false], destination);

        for (var p = 0; p < seg.Labels.Length; p++)
        for (var c = 0; c < 3; c++)
            Assert.Equal(seg.Labels[p] == 0 ? image.Pixels[3 * p + c] : hide[3 + c], destination[3 * p + c]);
    }

    [Fact]
    public void Mismatched_inputs_are_rejected_when_the_perturber_is_built()
    {
        var seg = LimeTestData.Grid(2, 2, 4);
        var image = TestImages.Random(8, 8, seed: 0);
        var preprocessor = new ImagePreprocessor(8, 8, TestImages.Stretch(4, 4));
        Assert.Throws<ArgumentException>(() => new LimePerturber(image, seg, new float[3], preprocessor, 0));
        Assert.Throws<ArgumentException>(() =>
            new MaskPerturber(image, seg, new float[12], preprocessor, new LimeMasks(0, 5)));
        Assert.Throws<ArgumentException>(() =>
            new LimePerturber(TestImages.Random(9, 8, 0), seg, new float[12], preprocessor, 0));
    }
}
