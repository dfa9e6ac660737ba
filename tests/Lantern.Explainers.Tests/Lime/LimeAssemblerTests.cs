using Lantern.Explainers.Lime;

namespace Lantern.Explainers.Tests.Lime;

public class LimeAssemblerTests
{
    [Fact]
    public void Without_selection_a_linear_model_of_the_features_is_recovered_with_R2_near_1()
    {
        double[] truth = [4.0, -3.0, 2.5, 1.0, -0.5, 0.25, 6.0, -2.0];
        var p = new LimeParameters(Samples: 3000, Seed: 11, Selection: FeatureSelection.None);
        var scores = LimeTestData.LinearScores(p, truth, intercept: 1.5);

        var e = Assert.Single(LimeAssembler.Explain(p, truth.Length, scores, 1, [281]));

        Assert.Equal(281, e.Target);
        Assert.Equal(Enumerable.Range(0, truth.Length), e.SelectedFeatures);
        for (var k = 0; k < truth.Length; k++)
            Assert.InRange(e.Weights[k], truth[k] - 0.05 * Math.Abs(truth[k]) - 0.01, truth[k] + 0.05 * Math.Abs(truth[k]) + 0.01);
        Assert.True(e.Score > 0.999, $"R² = {e.Score}");
        // Ridge only shrinks slightly, so the local model nearly reproduces the all-on score Σw + 1.5 = 9.75.
        Assert.InRange(e.LocalPrediction, 9.75 - 0.1, 9.75 + 0.1);
    }

    [Fact]
    public void Highest_weights_keeps_the_largest_weights_ranked_as_the_truth()
    {
        // 20 features with distinct |weights|; auto with NumFeatures 10 means highest_weights, as in lime.
        var truth = Enumerable.Range(0, 20).Select(k => (k % 2 == 0 ? 1 : -1) * (0.3 + 0.37 * ((k * 7) % 20))).ToArray();
        var p = new LimeParameters(Samples: 1000, Seed: 4, NumFeatures: 10);
        var scores = LimeTestData.LinearScores(p, truth);

        var e = LimeAssembler.Explain(p, truth.Length, scores, 1, [0])[0];

        var expected = Enumerable.Range(0, 20).OrderByDescending(k => Math.Abs(truth[k])).Take(10).ToArray();
        Assert.Equal(expected, e.SelectedFeatures);
        var byFitted = e.SelectedFeatures.OrderByDescending(k => Math.Abs(e.Weights[k])).ToArray();
        Assert.Equal(expected, byFitted);
        Assert.All(Enumerable.Range(0, 20).Except(expected), k => Assert.Equal(0, e.Weights[k]));
        Assert.All(expected, k => Assert.Equal(Math.Sign(truth[k]), Math.Sign(e.Weights[k])));
    }

    [Fact]
    public void Forward_selection_picks_the_truly_important_features()
    {
        var truth = new double[15];
        for (var k = 0; k < truth.Length; k++) truth[k] = 0.05 * (k % 3); // noise-level features
        (truth[3], truth[9], truth[12]) = (5.0, -4.0, 3.0);
        var p = new LimeParameters(Samples: 600, Seed: 21, NumFeatures: 3); // auto with 3 <= 6: forward selection
        var scores = LimeTestData.LinearScores(p, truth);

        var e = LimeAssembler.Explain(p, truth.Length, scores, 1, [0])[0];

        Assert.Equal([3, 9, 12], e.SelectedFeatures); // chosen in order of the R² each one adds
        Assert.Equal(3, e.Weights.Count(w => w != 0));
    }

    [Fact]
    public void Forward_selection_and_highest_weights_can_be_asked_for_explicitly()
    {
        double[] truth = [0.1, 3, 0.2, -2, 0.3, 1];
        var scores = LimeTestData.LinearScores(new LimeParameters(Samples: 500, Seed: 2), truth);
        foreach (var selection in new[] { FeatureSelection.ForwardSelection, FeatureSelection.HighestWeights })
        {
            var p = new LimeParameters(Samples: 500, Seed: 2, Selection: selection, NumFeatures: 2);
            var e = LimeAssembler.Explain(p, truth.Length, scores, 1, [0])[0];
            Assert.Equal([1, 3], e.SelectedFeatures);
        }
    }

    [Fact]
    public void Local_prediction_is_the_local_model_at_the_unperturbed_image()
    {
        double[] truth = [1, -2, 3, 0.5, 0.7];
        var p = new LimeParameters(Samples: 300, Seed: 8, NumFeatures: 3);
        var e = LimeAssembler.Explain(p, truth.Length, LimeTestData.LinearScores(p, truth, 2), 1, [0])[0];
        Assert.Equal(e.Intercept + e.Weights.Sum(), e.LocalPrediction, 12);
    }

    [Fact]
    public void Each_target_gets_its_own_model_from_its_column_of_scores()
    {
        double[] a = [2, 0, 0, 1], b = [0, -3, 1, 0];
        var p = new LimeParameters(Samples: 800, Seed: 5, Selection: FeatureSelection.None);
        var sa = LimeTestData.LinearScores(p, a);
        var sb = LimeTestData.LinearScores(p, b);
        var scores = new float[2 * p.Samples];
        for (var i = 0; i < p.Samples; i++) (scores[2 * i], scores[2 * i + 1]) = (sa[i], sb[i]);

        var both = LimeAssembler.Explain(p, 4, scores, 2, [10, 20]);

        Assert.Equal([10, 20], both.Select(e => e.Target));
        Assert.Equal(LimeAssembler.Explain(p, 4, sa, 1, [10])[0].Weights, both[0].Weights);
        Assert.Equal(LimeAssembler.Explain(p, 4, sb, 1, [20])[0].Weights, both[1].Weights);
    }

    [Fact]
    public void Scores_of_the_wrong_length_are_rejected()
    {
        var p = new LimeParameters(Samples: 10);
        Assert.Throws<ArgumentException>(() => LimeAssembler.Explain(p, 3, new float[9], 1, [0]));
        Assert.Throws<ArgumentException>(() => LimeAssembler.Explain(p, 3, new float[20], 2, [0]));
    }

    [Fact]
    public void WeightMap_paints_each_pixel_with_its_features_weight()
    {
        var seg = LimeTestData.Grid(columns: 3, rows: 2, cell: 4);
        var e = new LimeExplanation(0, 0, 1, 0, [1, -2, 3, 0, 0.5, -0.25], [0, 1, 2, 4, 5]);

        var map = LimeAssembler.WeightMap(seg, e);

        for (var p = 0; p < map.Length; p++)
            Assert.Equal((float)e.Weights[seg.Labels[p]], map[p]);
    }

    [Fact]
    public void PositiveMask_selects_the_pixels_of_the_top_k_positive_features()
    {
        var seg = LimeTestData.Grid(columns: 3, rows: 2, cell: 4);
        var e = new LimeExplanation(0, 0, 1, 0, [1, -9, 3, 0, 0.5, 2], [0, 1, 2, 3, 4, 5]);

        var top2 = LimeAssembler.PositiveMask(seg, e, 2);
        var top10 = LimeAssembler.PositiveMask(seg, e, 10);

        for (var p = 0; p < top2.Length; p++)
        {
            int f = seg.Labels[p];
            Assert.Equal(f is 2 or 5 ? 1f : 0f, top2[p]);              // 3 and 2; the negative -9 never counts
            Assert.Equal(e.Weights[f] > 0 ? 1f : 0f, top10[p]);          // every positive feature, no more
        }
    }
}
