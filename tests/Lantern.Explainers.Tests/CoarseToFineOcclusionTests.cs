using Lantern.Explainers.Imaging;
using Lantern.Explainers.Occlusion;

namespace Lantern.Explainers.Tests;

public class CoarseToFineOcclusionTests
{
    private const int Size = 48;

    private static readonly WindowShape[] Scales = [new(4, 4, 2, 2), new(8, 8, 4, 4), new(16, 16, 8, 8)];

    /// <summary>A model that only sees a bright square at (30..38, 6..14): occluding any of it drops the score by the overlap.</summary>
    private static float Score(PixelRect w, int target)
    {
        int x0 = Math.Max(w.X, 30), x1 = Math.Min(w.Right, 38), y0 = Math.Max(w.Y, 6), y1 = Math.Min(w.Bottom, 14);
        var overlap = Math.Max(0, x1 - x0) * Math.Max(0, y1 - y0);
        return (target + 1) * (64 - overlap) / 64f;
    }

    private static readonly float[] Baseline = [1f, 2f];

    private static (OcclusionMaps Maps, long Evaluated) RunCoarseToFine(OcclusionPlan plan, double threshold)
    {
        var c2f = new CoarseToFineOcclusion(plan, Baseline, threshold);
        for (var step = 0; step < c2f.Steps; step++)
        {
            var needed = c2f.Needed(step);
            var scores = new float[needed.Length * 2];
            for (var k = 0; k < needed.Length; k++)
            for (var t = 0; t < 2; t++)
                scores[k * 2 + t] = Score(plan.WindowAt(needed[k]), t);
            c2f.Record(step, needed, scores);
        }
        return (c2f.Assemble(), c2f.Evaluated);
    }

    private static OcclusionMaps Exact(OcclusionPlan plan)
    {
        var scores = new float[plan.WindowCount * 2];
        for (long i = 0; i < plan.WindowCount; i++)
        for (var t = 0; t < 2; t++)
            scores[i * 2 + t] = Score(plan.WindowAt(i), t);
        return OcclusionAssembler.Assemble(plan, Baseline, scores, 2);
    }

    [Fact]
    public void With_threshold_0_every_window_is_evaluated_and_the_maps_are_the_exact_ones_bit_for_bit()
    {
        var plan = OcclusionPlan.Create(Size, Size, Scales);

        var (maps, evaluated) = RunCoarseToFine(plan, threshold: 0);

        var exact = Exact(plan);
        Assert.Equal(plan.WindowCount, evaluated);
        for (var t = 0; t < 2; t++)
        {
            TestImages.AssertBitIdentical(exact.Combined[t], maps.Combined[t], $"combined {t}");
            for (var s = 0; s < Scales.Length; s++)
                TestImages.AssertBitIdentical(exact.PerScale[s][t], maps.PerScale[s][t], $"scale {s} target {t}");
        }
    }

    [Fact]
    public void Finer_scales_evaluate_only_near_the_significant_region_and_keep_the_exact_map_there()
    {
        var plan = OcclusionPlan.Create(Size, Size, Scales);

        var (maps, evaluated) = RunCoarseToFine(plan, threshold: 0.1);

        var exact = Exact(plan);
        Assert.True(evaluated < plan.WindowCount / 3, $"evaluated {evaluated} of {plan.WindowCount}");
        for (var t = 0; t < 2; t++)
        {
            // Close to the exact map overall, and its strongest pixel is in the informative square.
            double error = 0, norm = 0;
            for (var p = 0; p < Size * Size; p++)
            {
                error += Math.Pow(maps.Combined[t][p] - exact.Combined[t][p], 2);
                norm += Math.Pow(exact.Combined[t][p], 2);
            }
            Assert.True(Math.Sqrt(error / norm) < 0.1, $"target {t}: relative L2 error {Math.Sqrt(error / norm):F3}");
            var top = Array.IndexOf(maps.PerScale[0][t], maps.PerScale[0][t].Max());
            Assert.InRange(top % Size, 30, 37);
            Assert.InRange(top / Size, 6, 13);
        }
        // Far from it the map is 0, as the exact one.
        Assert.Equal(0f, maps.PerScale[0][0][40 * Size + 2]);
    }

    [Fact]
    public void A_step_cannot_be_asked_for_before_the_coarser_one_is_recorded()
    {
        var c2f = new CoarseToFineOcclusion(OcclusionPlan.Create(Size, Size, Scales), Baseline, 0.3);
        c2f.Needed(0);
        Assert.Throws<InvalidOperationException>(() => c2f.Needed(1));
        Assert.Throws<ArgumentException>(() => new CoarseToFineOcclusion(OcclusionPlan.Create(Size, Size, Scales), Baseline, 1.5));
    }
}
