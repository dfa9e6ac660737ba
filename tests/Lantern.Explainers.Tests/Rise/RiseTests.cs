using Lantern.Explainers.Imaging;
using Lantern.Explainers.Rise;

namespace Lantern.Explainers.Tests.Rise;

public class RiseTests
{
    private static float[] Mask(RiseParameters p, int w, int h, long i)
    {
        var mask = new float[w * h];
        RiseMasks.Mask(p, w, h, i, mask);
        return mask;
    }

    [Theory]
    [InlineData(0.5f, 7)]
    [InlineData(0.2f, 5)]
    [InlineData(0.8f, 3)]
    public void Masks_lie_in_0_to_1_and_average_to_the_density(float density, int cells)
    {
        var p = new RiseParameters(Samples: 1500, Seed: 1, Cells: cells, Density: density);
        double sum = 0;
        for (var i = 0; i < p.Samples; i++)
        {
            var mask = Mask(p, 40, 30, i);
            Assert.All(mask, v => Assert.InRange(v, 0f, 1f));
            sum += mask.Sum();
        }
        Assert.InRange(sum / (p.Samples * 40.0 * 30), density - 0.02, density + 0.02);
    }

    [Fact]
    public void The_same_seed_gives_the_same_masks_and_another_seed_different_ones()
    {
        var a = new RiseParameters(Samples: 10, Seed: 3);
        var b = a with { Seed = 4 };
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(Mask(a, 33, 21, i), Mask(a, 33, 21, i));
            Assert.NotEqual(Mask(a, 33, 21, i), Mask(b, 33, 21, i));
        }
    }

    [Fact]
    public void Masks_are_smooth_interpolations_of_a_coarse_grid()
    {
        // Neighbouring pixels differ by at most one cell's worth of bilinear slope (1 / cell size of the upsampled grid).
        var p = new RiseParameters(Samples: 20, Seed: 2, Cells: 4);
        for (var i = 0; i < 20; i++)
        {
            var m = Mask(p, 32, 32, i);
            for (var y = 0; y < 32; y++)
            for (var x = 1; x < 32; x++)
                Assert.True(Math.Abs(m[y * 32 + x] - m[y * 32 + x - 1]) <= 1.0 / (32.0 / 4 * 5 / 4) + 1e-6);
        }
    }

    [Fact]
    public void A_score_that_looks_at_a_square_makes_the_map_brighter_inside_it_than_far_outside()
    {
        const int w = 48, h = 48;
        var p = new RiseParameters(Samples: 1500, Seed: 6, Cells: 6);
        var scores = new float[p.Samples];
        for (var i = 0; i < p.Samples; i++)
        {
            var mask = Mask(p, w, h, i);
            double s = 0;
            for (var y = 16; y < 24; y++)
            for (var x = 8; x < 16; x++)
                s += mask[y * w + x];
            scores[i] = (float)(s / 64);
        }

        var map = Assert.Single(RiseAssembler.Assemble(p, w, h, scores, 1));

        double inside = Mean(map, w, 8, 16, 16, 24), farOutside = Mean(map, w, 36, 48, 36, 48);
        Assert.True(inside > farOutside + 0.05, $"inside {inside}, far outside {farOutside}");
        // E[s·m] / p: inside ≈ E[m²]/p > p, far away ≈ E[m]E[s]/p = p.
        Assert.InRange(farOutside, 0.45, 0.55);
    }

    [Fact]
    public void A_constant_score_gives_a_flat_map_of_that_score()
    {
        var p = new RiseParameters(Samples: 2000, Seed: 9, Density: 0.4f);
        var scores = Enumerable.Repeat(3f, p.Samples).ToArray();
        var map = RiseAssembler.Assemble(p, 20, 20, scores, 1)[0];
        Assert.All(map, v => Assert.InRange(v, 3 * 0.9, 3 * 1.1));
    }

    [Fact]
    public void Each_target_column_gets_its_own_map()
    {
        var p = new RiseParameters(Samples: 50, Seed: 1);
        var scores = new float[100];
        for (var i = 0; i < 50; i++) (scores[2 * i], scores[2 * i + 1]) = (i, -2 * i);
        var maps = RiseAssembler.Assemble(p, 10, 10, scores, 2);
        for (var q = 0; q < 100; q++) Assert.Equal(-2 * maps[0][q], maps[1][q], 3);
    }

    [Fact]
    public void The_perturbed_tensor_is_the_image_times_the_mask_plus_the_fill()
    {
        var image = TestImages.Random(24, 18, seed: 4);
        var preprocessor = new ImagePreprocessor(24, 18, TestImages.Stretch(12, 9));
        var p = new RiseParameters(Samples: 10, Seed: 8, Cells: 3);
        float[] fill = [100, 50, 25];
        var black = new RisePerturber(image, preprocessor, p);
        var grey = new RisePerturber(image, preprocessor, p, fill);
        var actual = new float[preprocessor.TensorLength];

        for (var i = 0; i < 10; i++)
        {
            var mask = Mask(p, 24, 18, i);
            var expectedBlack = new float[image.Pixels.Length];
            var expectedFill = new float[image.Pixels.Length];
            for (var q = 0; q < mask.Length; q++)
            for (var c = 0; c < 3; c++)
            {
                expectedBlack[3 * q + c] = image.Pixels[3 * q + c] * mask[q] + 0f * (1 - mask[q]);
                expectedFill[3 * q + c] = image.Pixels[3 * q + c] * mask[q] + fill[c] * (1 - mask[q]);
            }

            black.Write(i, actual);
            TestImages.AssertBitIdentical(TestImages.Preprocess(preprocessor, expectedBlack), actual, $"black {i}");
            grey.Write(i, actual);
            TestImages.AssertBitIdentical(TestImages.Preprocess(preprocessor, expectedFill), actual, $"fill {i}");
        }
    }

    private static double Mean(float[] map, int w, int x0, int x1, int y0, int y1)
    {
        double s = 0;
        for (var y = y0; y < y1; y++)
        for (var x = x0; x < x1; x++)
            s += map[y * w + x];
        return s / ((x1 - x0) * (y1 - y0));
    }
}
