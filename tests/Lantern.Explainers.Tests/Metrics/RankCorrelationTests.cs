using Lantern.Explainers.Metrics;

namespace Lantern.Explainers.Tests.Metrics;

public sealed class RankCorrelationTests
{
    [Fact]
    public void Spearman_is_1_for_any_increasing_relation_and_minus_1_for_a_decreasing_one()
    {
        float[] a = [1, 5, 2, 8, 3];
        Assert.Equal(1, RankCorrelation.Spearman(a, [.. a.Select(v => v * v * v + 7)]), 12);
        Assert.Equal(-1, RankCorrelation.Spearman(a, [.. a.Select(v => -2 * v)]), 12);
    }

    [Fact]
    public void Ties_take_their_average_rank_as_scipy_does()
    {
        // scipy.stats.spearmanr([1, 2, 2, 3], [1, 3, 2, 4]).correlation = 0.9486832980505138
        Assert.Equal(0.9486832980505138, RankCorrelation.Spearman([1, 2, 2, 3], [1, 3, 2, 4]), 12);
    }

    [Fact]
    public void A_constant_map_correlates_with_nothing()
    {
        Assert.Equal(0, RankCorrelation.Spearman([2, 2, 2], [1, 2, 3]));
    }
}
