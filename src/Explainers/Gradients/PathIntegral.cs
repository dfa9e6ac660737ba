namespace Lantern.Explainers.Gradients;

/// <summary>How integrated gradients places its points on the straight path from the baseline to the input.</summary>
public enum IntegrationRule { GaussLegendre, RiemannLeft, RiemannRight, RiemannMiddle, RiemannTrapezoid }

/// <summary>
/// Quadrature of ∫₀¹ g(baseline + α (x − baseline)) dα with <c>steps</c> points: where (α) and how much each point
/// counts. The same points and weights as Captum's IntegratedGradients for each of its methods.
/// </summary>
public sealed class PathIntegral
{
    public PathIntegral(IntegrationRule rule, int steps)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), "integrated gradients needs at least one step");
        if (rule == IntegrationRule.RiemannTrapezoid && steps < 2)
            throw new ArgumentOutOfRangeException(nameof(steps), "the trapezoid rule needs at least two steps");
        Rule = rule;
        (Alphas, Weights) = rule switch
        {
            IntegrationRule.GaussLegendre => GaussLegendre(steps),
            IntegrationRule.RiemannTrapezoid => Trapezoid(steps),
            _ => Riemann(rule, steps),
        };
    }

    public IntegrationRule Rule { get; }
    public double[] Alphas { get; }
    public double[] Weights { get; }
    public int Steps => Alphas.Length;

    private static (double[], double[]) Riemann(IntegrationRule rule, int n)
    {
        var offset = rule switch { IntegrationRule.RiemannLeft => 0.0, IntegrationRule.RiemannRight => 1.0, _ => 0.5 };
        var alphas = new double[n];
        var weights = new double[n];
        for (var i = 0; i < n; i++)
        {
            alphas[i] = (i + offset) / n;
            weights[i] = 1.0 / n;
        }
        return (alphas, weights);
    }

    private static (double[], double[]) Trapezoid(int n)
    {
        var alphas = new double[n];
        var weights = new double[n];
        for (var i = 0; i < n; i++)
        {
            alphas[i] = (double)i / (n - 1);
            weights[i] = (i == 0 || i == n - 1 ? 0.5 : 1.0) / (n - 1);
        }
        return (alphas, weights);
    }

    /// <summary>Legendre nodes by Newton's method on P_n (numpy's leggauss gives the same to rounding), mapped to [0, 1].</summary>
    private static (double[], double[]) GaussLegendre(int n)
    {
        var alphas = new double[n];
        var weights = new double[n];
        for (var i = 0; i < (n + 1) / 2; i++)
        {
            var z = Math.Cos(Math.PI * (i + 0.75) / (n + 0.5));
            double derivative;
            while (true)
            {
                var (p, previous) = (1.0, 0.0);
                for (var j = 1; j <= n; j++) (p, previous) = (((2 * j - 1) * z * p - (j - 1) * previous) / j, p);
                derivative = n * (z * p - previous) / (z * z - 1);
                var step = p / derivative;
                z -= step;
                if (Math.Abs(step) < 1e-15) break;
            }
            var weight = 2 / ((1 - z * z) * derivative * derivative);
            // Nodes ascending in α, as leggauss returns them.
            alphas[i] = 0.5 * (1 - z);
            alphas[n - 1 - i] = 0.5 * (1 + z);
            weights[i] = weights[n - 1 - i] = 0.5 * weight;
        }
        return (alphas, weights);
    }
}
