using Lantern.Explainers.Gradients;

namespace Lantern.Explainers.Tests.Gradients;

public class PathIntegralTests
{
    // numpy.polynomial.legendre.leggauss(n) in closed form on [−1, 1]; the rule maps them to α = (x + 1) / 2, weight = w / 2.
    public static TheoryData<int, double[], double[]> Legendre()
    {
        var s3 = Math.Sqrt(3.0 / 5);
        var inner = Math.Sqrt(5 - 2 * Math.Sqrt(10.0 / 7)) / 3;
        var outer = Math.Sqrt(5 + 2 * Math.Sqrt(10.0 / 7)) / 3;
        var wInner = (322 + 13 * Math.Sqrt(70)) / 900;
        var wOuter = (322 - 13 * Math.Sqrt(70)) / 900;
        return new TheoryData<int, double[], double[]>
        {
            { 1, [0], [2] },
            { 2, [-1 / Math.Sqrt(3), 1 / Math.Sqrt(3)], [1, 1] },
            { 3, [-s3, 0, s3], [5.0 / 9, 8.0 / 9, 5.0 / 9] },
            { 5, [-outer, -inner, 0, inner, outer], [wOuter, wInner, 128.0 / 225, wInner, wOuter] },
        };
    }

    [Theory]
    [MemberData(nameof(Legendre))]
    public void Gauss_Legendre_points_are_numpys_leggauss_mapped_to_0_1(int n, double[] nodes, double[] weights)
    {
        var rule = new PathIntegral(IntegrationRule.GaussLegendre, n);

        Assert.Equal(n, rule.Steps);
        for (var i = 0; i < n; i++)
        {
            Assert.Equal((nodes[i] + 1) / 2, rule.Alphas[i], 1e-14);
            Assert.Equal(weights[i] / 2, rule.Weights[i], 1e-14);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(7)]
    [InlineData(32)]
    [InlineData(100)]
    public void Gauss_Legendre_weights_sum_to_1_and_alphas_ascend_inside_0_1(int n)
    {
        var rule = new PathIntegral(IntegrationRule.GaussLegendre, n);

        Assert.Equal(1.0, rule.Weights.Sum(), 1e-13);
        Assert.All(rule.Weights, w => Assert.True(w > 0));
        Assert.All(rule.Alphas, a => Assert.InRange(a, double.Epsilon, 1 - 1e-16));
        for (var i = 1; i < n; i++) Assert.True(rule.Alphas[i] > rule.Alphas[i - 1], $"alpha {i} does not ascend");
    }

    [Fact]
    public void Thirty_two_Gauss_Legendre_points_integrate_polynomials_up_to_degree_63_exactly()
    {
        var rule = new PathIntegral(IntegrationRule.GaussLegendre, 32);

        for (var k = 0; k <= 2 * 32 - 1; k++)
        {
            var integral = 0.0;
            for (var i = 0; i < rule.Steps; i++) integral += rule.Weights[i] * Math.Pow(rule.Alphas[i], k);
            Assert.Equal(1.0 / (k + 1), integral, 1e-13);
        }
    }

    // Captum's IntegratedGradients (approximation_methods.riemann_builders): alphas from torch.linspace, equal step sizes,
    // halved at both ends for the trapezoid.
    [Theory]
    [InlineData(IntegrationRule.RiemannLeft, 1)]
    [InlineData(IntegrationRule.RiemannLeft, 10)]
    [InlineData(IntegrationRule.RiemannRight, 1)]
    [InlineData(IntegrationRule.RiemannRight, 10)]
    [InlineData(IntegrationRule.RiemannMiddle, 1)]
    [InlineData(IntegrationRule.RiemannMiddle, 9)]
    [InlineData(IntegrationRule.RiemannTrapezoid, 2)]
    [InlineData(IntegrationRule.RiemannTrapezoid, 11)]
    public void Riemann_rules_match_Captums_points_and_step_sizes(IntegrationRule rule, int n)
    {
        var (alphas, weights) = rule switch
        {
            IntegrationRule.RiemannLeft => (Linspace(0, 1 - 1.0 / n, n), Enumerable.Repeat(1.0 / n, n).ToArray()),
            IntegrationRule.RiemannRight => (Linspace(1.0 / n, 1, n), Enumerable.Repeat(1.0 / n, n).ToArray()),
            IntegrationRule.RiemannMiddle => (Linspace(1.0 / (2 * n), 1 - 1.0 / (2 * n), n), Enumerable.Repeat(1.0 / n, n).ToArray()),
            _ => (Linspace(0, 1, n), TrapezoidSteps(n)),
        };

        var path = new PathIntegral(rule, n);

        Assert.Equal(rule, path.Rule);
        Assert.Equal(n, path.Steps);
        for (var i = 0; i < n; i++)
        {
            Assert.Equal(alphas[i], path.Alphas[i], 1e-15);
            Assert.Equal(weights[i], path.Weights[i], 1e-15);
        }
        Assert.Equal(1.0, path.Weights.Sum(), 1e-14);
    }

    [Fact]
    public void The_trapezoid_rule_integrates_a_straight_line_exactly()
    {
        var path = new PathIntegral(IntegrationRule.RiemannTrapezoid, 6);

        var integral = path.Alphas.Zip(path.Weights, (a, w) => w * (3 * a + 1)).Sum();

        Assert.Equal(2.5, integral, 1e-14);
    }

    [Theory]
    [InlineData(IntegrationRule.GaussLegendre, 0)]
    [InlineData(IntegrationRule.GaussLegendre, -3)]
    [InlineData(IntegrationRule.RiemannLeft, 0)]
    [InlineData(IntegrationRule.RiemannRight, 0)]
    [InlineData(IntegrationRule.RiemannMiddle, -1)]
    [InlineData(IntegrationRule.RiemannTrapezoid, 1)]
    [InlineData(IntegrationRule.RiemannTrapezoid, 0)]
    public void Too_few_steps_are_rejected(IntegrationRule rule, int steps)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new PathIntegral(rule, steps));
        Assert.Equal("steps", e.ParamName);
    }

    /// <summary>numpy.linspace / torch.linspace: start + i·step, the last point exactly stop.</summary>
    private static double[] Linspace(double start, double stop, int n)
    {
        if (n == 1) return [start];
        var step = (stop - start) / (n - 1);
        var values = new double[n];
        for (var i = 0; i < n; i++) values[i] = start + i * step;
        values[n - 1] = stop;
        return values;
    }

    private static double[] TrapezoidSteps(int n)
    {
        var steps = Enumerable.Repeat(1.0 / (n - 1), n).ToArray();
        steps[0] = steps[n - 1] = 1.0 / (2 * (n - 1));
        return steps;
    }
}
