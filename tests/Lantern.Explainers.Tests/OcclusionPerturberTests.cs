using Lantern.Explainers.Imaging;
using Lantern.Explainers.Occlusion;

namespace Lantern.Explainers.Tests;

public class OcclusionPerturberTests
{
    public static TheoryData<OcclusionFill> Fills => new()
    {
        new OcclusionFill(FillKind.Zero),
        new OcclusionFill(FillKind.Mean),
        new OcclusionFill(FillKind.Constant, 255, 128, 7),
        new OcclusionFill(FillKind.Blur, BlurSigma: 3),
        new OcclusionFill(FillKind.Blur),
    };

    [Theory]
    [MemberData(nameof(Fills))]
    public void Each_occluded_tensor_equals_a_full_Write_of_the_occluded_image_bit_for_bit(OcclusionFill fill)
    {
        var image = TestImages.Random(37, 29, seed: 10);
        var preprocessor = new ImagePreprocessor(37, 29, TestImages.CenterCrop(16, 16, 20));
        var plan = OcclusionPlan.Create(37, 29, [new WindowShape(8, 8, 5, 5), new WindowShape(3, 5, 3, 4)]);
        var perturber = new OcclusionPerturber(image, preprocessor, plan, fill);
        var fillImage = FillImage(image, fill);

        TestImages.AssertBitIdentical(TestImages.Preprocess(preprocessor, image.Pixels), perturber.BaseTensor, "base");
        var actual = new float[preprocessor.TensorLength];
        for (long i = 0; i < plan.WindowCount; i++)
        {
            var occluded = (float[])image.Pixels.Clone();
            var window = plan.WindowAt(i);
            for (var y = window.Y; y < window.Bottom; y++)
            for (var k = (y * 37 + window.X) * 3; k < (y * 37 + window.Right) * 3; k++)
                occluded[k] = fillImage[k];

            perturber.Write(i, actual);

            TestImages.AssertBitIdentical(TestImages.Preprocess(preprocessor, occluded), actual, $"window {i}");
        }
    }

    public static TheoryData<TensorLayout, ChannelOrder> Layouts => new()
    {
        { TensorLayout.Nchw, ChannelOrder.Rgb },
        { TensorLayout.Nhwc, ChannelOrder.Bgr },
    };

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Rewriting_over_any_previous_window_gives_the_bits_of_a_fresh_Write(TensorLayout layout, ChannelOrder order)
    {
        // Resized (37×29 to 16×20), so a window's outputs reach past it; windows of two shapes that overlap each other.
        var image = TestImages.Random(37, 29, seed: 11);
        var preprocessor = new ImagePreprocessor(37, 29, TestImages.Stretch(16, 20, order, layout));
        var plan = OcclusionPlan.Create(37, 29, [new WindowShape(8, 8, 5, 5), new WindowShape(3, 5, 3, 4)]);
        var perturber = new OcclusionPerturber(image, preprocessor, plan, new OcclusionFill(FillKind.Constant, 255, 0, 40));
        var fresh = new float[preprocessor.TensorLength];
        var rewritten = new float[preprocessor.TensorLength];

        for (long previous = 0; previous < plan.WindowCount; previous += 3)
        for (long next = 0; next < plan.WindowCount; next++)
        {
            perturber.Write(previous, rewritten);
            ((IPerturber)perturber).Rewrite(previous, next, rewritten);
            perturber.Write(next, fresh);
            TestImages.AssertBitIdentical(fresh, rewritten, $"window {next} over window {previous}");
        }

        // A long chain of rewrites, as a worker's input tensor sees one job's perturbations, drifts nowhere.
        var random = new Random(3);
        long held = 0;
        perturber.Write(held, rewritten);
        for (var step = 0; step < 500; step++)
        {
            var next = random.NextInt64(plan.WindowCount);
            ((IPerturber)perturber).Rewrite(held, next, rewritten);
            held = next;
        }
        perturber.Write(held, fresh);
        TestImages.AssertBitIdentical(fresh, rewritten, "after 500 rewrites");
    }

    [Fact]
    public void Blurring_a_constant_image_changes_nothing()
    {
        var image = TestImages.Constant(30, 30, 90, 120, 150);
        var preprocessor = new ImagePreprocessor(30, 30, TestImages.Stretch(15, 15));
        var plan = OcclusionPlan.Create(30, 30, [new WindowShape(10, 10, 10, 10)]);
        var perturber = new OcclusionPerturber(image, preprocessor, plan, new OcclusionFill(FillKind.Blur, BlurSigma: 4));

        var tensor = new float[preprocessor.TensorLength];
        perturber.Write(4, tensor);

        for (var i = 0; i < tensor.Length; i++)
            Assert.Equal(perturber.BaseTensor[i], tensor[i], 1e-4f);
    }

    [Fact]
    public void A_perturber_for_another_image_size_is_rejected()
    {
        var image = TestImages.Constant(30, 30, 0, 0, 0);
        var preprocessor = new ImagePreprocessor(30, 30, TestImages.Stretch(15, 15));
        var plan = OcclusionPlan.Create(31, 30, [new WindowShape(10, 10, 10, 10)]);

        Assert.Throws<ArgumentException>(() => new OcclusionPerturber(image, preprocessor, plan, new OcclusionFill(FillKind.Zero)));
    }

    /// <summary>The fill as a whole image, computed independently of the perturber.</summary>
    private static float[] FillImage(RgbImage image, OcclusionFill fill)
    {
        if (fill.Kind == FillKind.Blur)
            return ReferenceBlur(image, fill.BlurSigma > 0 ? fill.BlurSigma : 10);
        var (r, g, b) = fill.Kind switch
        {
            FillKind.Zero => (0f, 0f, 0f),
            FillKind.Mean => MeanColour(image),
            _ => (fill.R, fill.G, fill.B),
        };
        return TestImages.Constant(image.Width, image.Height, r, g, b).Pixels;
    }

    private static (float, float, float) MeanColour(RgbImage image)
    {
        var sum = new double[3];
        for (var i = 0; i < image.Pixels.Length; i++) sum[i % 3] += image.Pixels[i];
        double n = image.Width * image.Height;
        return ((float)(sum[0] / n), (float)(sum[1] / n), (float)(sum[2] / n));
    }

    /// <summary>Gaussian blur by definition: radius ceil(3 sigma), rows then columns in double, kernel renormalised at the border.</summary>
    private static float[] ReferenceBlur(RgbImage image, float sigma)
    {
        int w = image.Width, h = image.Height, radius = (int)Math.Ceiling(3 * sigma);
        double Kernel(int d) => Math.Exp(-0.5 * d * d / ((double)sigma * sigma));
        var rows = new double[image.Pixels.Length];
        var result = new float[image.Pixels.Length];
        for (var pass = 0; pass < 2; pass++)
        for (var y = 0; y < h; y++)
        for (var x = 0; x < w; x++)
        for (var c = 0; c < 3; c++)
        {
            double sum = 0, total = 0;
            for (var d = -radius; d <= radius; d++)
            {
                int sx = pass == 0 ? x + d : x, sy = pass == 0 ? y : y + d;
                if (sx < 0 || sx >= w || sy < 0 || sy >= h) continue;
                int k = (sy * w + sx) * 3 + c;
                sum += Kernel(d) * (pass == 0 ? image.Pixels[k] : rows[k]);
                total += Kernel(d);
            }
            if (pass == 0) rows[(y * w + x) * 3 + c] = sum / total;
            else result[(y * w + x) * 3 + c] = (float)(sum / total);
        }
        return result;
    }
}
