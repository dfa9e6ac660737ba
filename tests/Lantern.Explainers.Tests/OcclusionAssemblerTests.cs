using Lantern.Explainers.Imaging;
using Lantern.Explainers.Occlusion;

namespace Lantern.Explainers.Tests;

public class OcclusionAssemblerTests
{
    private static readonly WindowShape[] TwoScales =
    [
        new(Height: 3, Width: 4, StrideY: 2, StrideX: 1),
        new(Height: 5, Width: 2, StrideY: 3, StrideX: 2), // inside border: leaves column 12 of a 13-wide image uncovered
    ];

    [Theory]
    [InlineData(OcclusionBorder.Clipped)]
    [InlineData(OcclusionBorder.Inside)]
    public void Per_scale_maps_equal_the_brute_force_mean_of_covering_windows_exactly(OcclusionBorder border)
    {
        var plan = OcclusionPlan.Create(13, 11, TwoScales, border);
        var (baseline, scores) = RandomScores(plan, targets: 2, seed: 20);

        var maps = OcclusionAssembler.Assemble(plan, baseline, scores, 2);

        Assert.Equal((13, 11), (maps.Width, maps.Height));
        for (var s = 0; s < 2; s++)
        for (var t = 0; t < 2; t++)
            TestImages.AssertBitIdentical(BruteForce(plan, s, t, baseline, scores, 2), maps.PerScale[s][t], $"scale {s} target {t}");
        if (border == OcclusionBorder.Inside)
            Assert.All(Enumerable.Range(0, 11), y => Assert.Equal(0f, maps.PerScale[1][0][y * 13 + 12]));
        else
            Assert.All(Enumerable.Range(0, 11), y => Assert.NotEqual(0f, maps.PerScale[1][0][y * 13 + 12]));
    }

    [Fact]
    public void The_captum_border_gives_captums_map_where_the_stride_does_not_divide()
    {
        // A transcription of Captum's Occlusion for one channel: shift_counts = ceil((dim - window) / stride) + 1; window k
        // is a block of ones padded by k*stride before and dim - (k*stride + window) after, a negative pad cropping it;
        // attribution = sum of (baseline - score) * mask over windows / sum of masks (0 where no window covers).
        const int width = 29, height = 23;
        var shape = new WindowShape(Height: 7, Width: 6, StrideY: 5, StrideX: 4); // 16 % 5 != 0, 23 % 4 != 0
        var plan = OcclusionPlan.Create(width, height, [shape]);
        var (baseline, scores) = RandomScores(plan, targets: 1, seed: 23);

        int rows = (int)Math.Ceiling((height - 7) / 5.0) + 1, columns = (int)Math.Ceiling((width - 6) / 4.0) + 1;
        var sum = new double[width * height];
        var count = new double[width * height];
        for (var k = 0; k < rows * columns; k++)
        {
            int top = k / columns * 5, left = k % columns * 4; // Captum's feature k, row-major over (y, x)
            double delta = (double)baseline[0] - scores[k];
            for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                if (y < top || y >= top + 7 || x < left || x >= left + 6) continue;
                sum[y * width + x] += delta;
                count[y * width + x] += 1;
            }
        }
        var captum = new float[width * height];
        for (var p = 0; p < captum.Length; p++) captum[p] = count[p] == 0 ? 0f : (float)(sum[p] / count[p]);

        Assert.Equal(rows * columns, plan.WindowCount);
        Assert.All(count, c => Assert.True(c > 0)); // every pixel is covered, the last row and column included
        TestImages.AssertBitIdentical(captum, OcclusionAssembler.Assemble(plan, baseline, scores, 1).PerScale[0][0], "captum");
    }

    [Fact]
    public void Several_scales_combine_as_the_average_of_maps_normalised_by_their_maximum_magnitude()
    {
        var plan = OcclusionPlan.Create(13, 11, TwoScales);
        var (baseline, scores) = RandomScores(plan, targets: 2, seed: 21);
        // Target 1 does not react to any window of scale 0, so that map is all zero and must stay zero.
        for (long i = 0; i < plan.ScaleRange(0).Count; i++) scores[i * 2 + 1] = baseline[1];

        var maps = OcclusionAssembler.Assemble(plan, baseline, scores, 2);

        Assert.All(maps.PerScale[0][1], v => Assert.Equal(0f, v));
        for (var t = 0; t < 2; t++)
        {
            var expected = new float[13 * 11];
            var perScale = new[] { BruteForce(plan, 0, t, baseline, scores, 2), BruteForce(plan, 1, t, baseline, scores, 2) };
            var maxAbs = perScale.Select(m => m.Max(v => Math.Abs((double)v))).ToArray();
            for (var p = 0; p < expected.Length; p++)
            {
                double sum = 0;
                for (var s = 0; s < 2; s++)
                    sum += maxAbs[s] == 0 ? 0 : perScale[s][p] / maxAbs[s];
                expected[p] = (float)(sum / 2);
            }
            TestImages.AssertBitIdentical(expected, maps.Combined[t], $"target {t}");
        }
    }

    [Theory]
    [InlineData(OcclusionBorder.Clipped)]
    [InlineData(OcclusionBorder.Inside)]
    public void Windows_shared_by_two_scales_are_evaluated_once_and_the_maps_are_those_of_evaluating_them_twice(OcclusionBorder border)
    {
        // Scale 1 (4x3, stride 2x2) sits on scale 0's grid (4x3, stride 1x2) wherever x is even: those windows are the same
        // occluded image. Scale 2 has another size and shares nothing. With the captum border scale 1 also has a clipped
        // column at x = 10 (3 wide) that scale 0, whose full windows end at x = 9, does not have: one new window per row.
        WindowShape[] scales = [new(3, 4, 2, 1), new(3, 4, 2, 2), new(5, 2, 3, 2)];
        var plan = OcclusionPlan.Create(13, 11, scales, border);
        var separate = scales.Select(s => OcclusionPlan.Create(13, 11, [s], border)).ToArray();
        var scale1New = border == OcclusionBorder.Inside ? 0 : 5; // one per row of scale 1: y = 0, 2, 4, 6, 8
        Assert.Equal(separate[0].WindowCount + scale1New + separate[2].WindowCount, plan.WindowCount);
        Assert.Equal(scale1New, plan.ScaleRange(1).Count);

        // A model whose score depends only on which pixels are occluded: the same window gives the same score.
        float Score(PixelRect w, int t) => (float)(Math.Sin(w.X * 1.3 + w.Y * 0.7 + w.Width * 0.11 + w.Height * 0.05) + t);
        float[] baseline = [0.25f, 1.5f];
        float[] ScoresOf(OcclusionPlan p)
        {
            var scores = new float[p.WindowCount * 2];
            for (long i = 0; i < p.WindowCount; i++)
            for (var t = 0; t < 2; t++)
                scores[i * 2 + t] = Score(p.WindowAt(i), t);
            return scores;
        }

        var maps = OcclusionAssembler.Assemble(plan, baseline, ScoresOf(plan), 2);

        for (var s = 0; s < 3; s++)
        {
            var alone = OcclusionAssembler.Assemble(separate[s], baseline, ScoresOf(separate[s]), 2);
            for (var t = 0; t < 2; t++)
                TestImages.AssertBitIdentical(alone.PerScale[0][t], maps.PerScale[s][t], $"scale {s} target {t}");
        }
        for (long local = 0; local < plan.WindowsOfScale(1); local++)
            Assert.Equal(plan.LocalRect(1, local), plan.WindowAt(plan.EvaluationOf(1, local)));
    }

    [Fact]
    public void With_one_scale_the_combined_map_is_that_scale_unnormalised()
    {
        var plan = OcclusionPlan.Create(13, 11, [TwoScales[0]]);
        var (baseline, scores) = RandomScores(plan, targets: 3, seed: 22);

        var maps = OcclusionAssembler.Assemble(plan, baseline, scores, 3);

        for (var t = 0; t < 3; t++)
            TestImages.AssertBitIdentical(maps.PerScale[0][t], maps.Combined[t]);
    }

    [Fact]
    public void Occluding_the_only_informative_square_lights_up_exactly_that_square()
    {
        // The "model" averages the preprocessed tensor over one square of its 20x20 input per target. The input is the
        // 40x40 image halved, where output o reads source pixels [2o-1, 2o+3), so the square of outputs [a, b) depends
        // on source pixels [2a-1, 2b+1) per axis.
        var image = TestImages.Random(40, 40, seed: 23, min: 100, max: 255);
        var preprocessor = new ImagePreprocessor(40, 40, TestImages.Stretch(20, 20));
        var plan = OcclusionPlan.Create(40, 40, [new WindowShape(4, 4, 2, 2)]);
        var perturber = new OcclusionPerturber(image, preprocessor, plan, new OcclusionFill(FillKind.Zero));
        PixelRect[] squares = [new(6, 6, 4, 4), new(2, 14, 4, 3)]; // in model-input coordinates

        float Model(ReadOnlySpan<float> tensor, int target)
        {
            var q = squares[target];
            double sum = 0;
            for (var c = 0; c < 3; c++)
            for (var y = q.Y; y < q.Bottom; y++)
            for (var x = q.X; x < q.Right; x++)
                sum += tensor[(c * 20 + y) * 20 + x];
            return (float)(sum / (3 * q.Width * q.Height));
        }

        float[] baseline = [Model(perturber.BaseTensor, 0), Model(perturber.BaseTensor, 1)];
        var scores = new float[plan.WindowCount * 2];
        var tensor = new float[preprocessor.TensorLength];
        for (long i = 0; i < plan.WindowCount; i++)
        {
            perturber.Write(i, tensor);
            for (var t = 0; t < 2; t++) scores[i * 2 + t] = Model(tensor, t);
        }

        var maps = OcclusionAssembler.Assemble(plan, baseline, scores, 2);

        for (var t = 0; t < 2; t++)
        {
            var q = squares[t];
            var footprint = new PixelRect(2 * q.X - 1, 2 * q.Y - 1, 2 * q.Width + 2, 2 * q.Height + 2);
            var map = maps.Combined[t];
            int zeros = 0;
            for (var y = 0; y < 40; y++)
            for (var x = 0; x < 40; x++)
            {
                float v = map[y * 40 + x];
                Assert.True(v >= 0, $"target {t} pixel ({x},{y}) is {v}: darkening can only lower the score");
                bool insideSquare = x >= 2 * q.X && x < 2 * q.Right && y >= 2 * q.Y && y < 2 * q.Bottom;
                if (insideSquare) Assert.True(v > 0, $"target {t} pixel ({x},{y}) inside the square is {v}");
                if (!AnyCoveringWindowTouches(plan, x, y, footprint))
                {
                    Assert.Equal(0f, v);
                    zeros++;
                }
            }
            Assert.True(zeros > 1000, $"only {zeros} pixels are far from the square");
        }
    }

    private static bool AnyCoveringWindowTouches(OcclusionPlan plan, int x, int y, PixelRect footprint)
    {
        for (long i = 0; i < plan.WindowCount; i++)
        {
            var w = plan.WindowAt(i);
            bool covers = x >= w.X && x < w.Right && y >= w.Y && y < w.Bottom;
            bool touches = w.X < footprint.Right && footprint.X < w.Right && w.Y < footprint.Bottom && footprint.Y < w.Bottom;
            if (covers && touches) return true;
        }
        return false;
    }

    /// <summary>Captum's definition pixel by pixel: mean of (baseline − score) over the covering windows, in index order.</summary>
    private static float[] BruteForce(OcclusionPlan plan, int scale, int target, float[] baseline, float[] scores, int targets)
    {
        var map = new float[plan.ImageWidth * plan.ImageHeight];
        var (first, count) = plan.ScaleRange(scale);
        for (var y = 0; y < plan.ImageHeight; y++)
        for (var x = 0; x < plan.ImageWidth; x++)
        {
            double sum = 0;
            int covering = 0;
            for (long i = first; i < first + count; i++)
            {
                var w = plan.WindowAt(i);
                if (x < w.X || x >= w.Right || y < w.Y || y >= w.Bottom) continue;
                sum += (double)baseline[target] - scores[i * targets + target];
                covering++;
            }
            map[y * plan.ImageWidth + x] = covering == 0 ? 0 : (float)(sum / covering);
        }
        return map;
    }

    private static (float[] Baseline, float[] Scores) RandomScores(OcclusionPlan plan, int targets, int seed)
    {
        var random = new Random(seed);
        var baseline = new float[targets];
        for (var t = 0; t < targets; t++) baseline[t] = (float)random.NextDouble();
        var scores = new float[plan.WindowCount * targets];
        for (var i = 0; i < scores.Length; i++) scores[i] = (float)random.NextDouble();
        return (baseline, scores);
    }
}
