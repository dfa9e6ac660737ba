namespace Lantern.Explainers.Embedding;

/// <summary>How t-SNE runs; the defaults are those of van der Maaten's reference implementation (and MATLAB's tsne).</summary>
public sealed record TsneOptions(double Perplexity = 30, int Iterations = 1000, ulong Seed = 0, double LearningRate = 200,
    double Exaggeration = 12, int ExaggerationIterations = 250);

/// <summary>A 2-D embedding: one (x, y) per point, and the final Kullback–Leibler divergence between P and Q.</summary>
public sealed record TsneResult(double[] X, double[] Y, double KlDivergence, double Perplexity);

/// <summary>
/// Exact-gradient t-SNE (van der Maaten and Hinton 2008): Gaussian affinities at a given perplexity in the input space,
/// Student-t affinities in the plane, gradient descent on their KL divergence with early exaggeration, momentum and
/// adaptive gains. O(n²) per iteration: a thousand points in a few seconds. The start is seeded (Box–Muller from a
/// seeded generator) and every loop runs in a fixed order, so the same points and options give the same floats.
/// </summary>
public static class Tsne
{
    public static TsneResult Embed(IReadOnlyList<double[]> points, TsneOptions options)
    {
        var n = points.Count;
        if (n < 3) throw new ArgumentException($"t-SNE needs at least 3 points, got {n}");
        if (!(options.Perplexity >= 1 && options.Perplexity < n))
            throw new ArgumentException($"perplexity must be at least 1 and below the number of points ({n}), got {options.Perplexity}");
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Iterations, 1);
        var p = Affinities(SquaredDistances(points), options.Perplexity);

        var random = new Random(unchecked((int)(options.Seed ^ (options.Seed >> 32))));
        var y = new double[n, 2];
        for (var i = 0; i < n; i++)
        for (var k = 0; k < 2; k++)
            y[i, k] = 1e-4 * Gaussian(random); // the reference implementation's start
        var update = new double[n, 2];
        var gains = new double[n, 2];
        for (var i = 0; i < n; i++) gains[i, 0] = gains[i, 1] = 1;
        var num = new double[n, n];
        var gradient = new double[n, 2];
        var kl = 0.0;

        for (var iteration = 0; iteration < options.Iterations; iteration++)
        {
            var exaggeration = iteration < options.ExaggerationIterations ? options.Exaggeration : 1;
            var momentum = iteration < options.ExaggerationIterations ? 0.5 : 0.8;
            var sum = 0.0;
            for (var i = 0; i < n; i++)
            for (var j = i + 1; j < n; j++)
            {
                var dx = y[i, 0] - y[j, 0];
                var dy = y[i, 1] - y[j, 1];
                var q = 1 / (1 + dx * dx + dy * dy);
                num[i, j] = num[j, i] = q;
                sum += 2 * q;
            }
            var last = iteration == options.Iterations - 1;
            kl = 0;
            for (var i = 0; i < n; i++)
            {
                double gx = 0, gy = 0;
                for (var j = 0; j < n; j++)
                {
                    if (i == j) continue;
                    var q = Math.Max(num[i, j] / sum, 1e-12);
                    var m = (exaggeration * p[i, j] - q) * num[i, j];
                    gx += m * (y[i, 0] - y[j, 0]);
                    gy += m * (y[i, 1] - y[j, 1]);
                    if (last) kl += p[i, j] * Math.Log(p[i, j] / q);
                }
                gradient[i, 0] = 4 * gx;
                gradient[i, 1] = 4 * gy;
            }
            for (var i = 0; i < n; i++)
            for (var k = 0; k < 2; k++)
            {
                gains[i, k] = Math.Sign(gradient[i, k]) != Math.Sign(update[i, k]) ? gains[i, k] + 0.2 : gains[i, k] * 0.8;
                gains[i, k] = Math.Max(gains[i, k], 0.01);
                update[i, k] = momentum * update[i, k] - options.LearningRate * gains[i, k] * gradient[i, k];
                y[i, k] += update[i, k];
            }
            for (var k = 0; k < 2; k++)
            {
                var mean = 0.0;
                for (var i = 0; i < n; i++) mean += y[i, k];
                mean /= n;
                for (var i = 0; i < n; i++) y[i, k] -= mean;
            }
        }
        var xs = new double[n];
        var ys = new double[n];
        for (var i = 0; i < n; i++)
        {
            xs[i] = y[i, 0];
            ys[i] = y[i, 1];
        }
        return new TsneResult(xs, ys, kl, options.Perplexity);
    }

    private static double[,] SquaredDistances(IReadOnlyList<double[]> points)
    {
        var n = points.Count;
        var d = new double[n, n];
        for (var i = 0; i < n; i++)
        for (var j = i + 1; j < n; j++)
        {
            var sum = 0.0;
            var a = points[i];
            var b = points[j];
            for (var k = 0; k < a.Length; k++) sum += (a[k] - b[k]) * (a[k] - b[k]);
            d[i, j] = d[j, i] = sum;
        }
        return d;
    }

    /// <summary>
    /// Symmetric joint probabilities: each point's conditional Gaussian, its precision found by bisection so that the
    /// distribution's entropy is log(perplexity), then (P + Pᵀ) / 2n.
    /// </summary>
    private static double[,] Affinities(double[,] distances, double perplexity)
    {
        var n = distances.GetLength(0);
        var conditional = new double[n, n];
        var target = Math.Log(perplexity);
        var row = new double[n];
        for (var i = 0; i < n; i++)
        {
            double beta = 1, low = double.NegativeInfinity, high = double.PositiveInfinity;
            for (var attempt = 0; attempt < 100; attempt++)
            {
                var (entropy, _) = Row(distances, i, beta, row);
                var difference = entropy - target;
                if (Math.Abs(difference) < 1e-5) break;
                if (difference > 0)
                {
                    low = beta;
                    beta = double.IsPositiveInfinity(high) ? beta * 2 : (beta + high) / 2;
                }
                else
                {
                    high = beta;
                    beta = double.IsNegativeInfinity(low) ? beta / 2 : (beta + low) / 2;
                }
            }
            Row(distances, i, beta, row);
            for (var j = 0; j < n; j++) conditional[i, j] = row[j];
        }
        var joint = new double[n, n];
        for (var i = 0; i < n; i++)
        for (var j = 0; j < n; j++)
            joint[i, j] = i == j ? 0 : Math.Max((conditional[i, j] + conditional[j, i]) / (2 * n), 1e-12);
        return joint;
    }

    /// <summary>Point i's conditional probabilities at precision beta (into <paramref name="row"/>) and their entropy.</summary>
    private static (double Entropy, double Sum) Row(double[,] distances, int i, double beta, double[] row)
    {
        var n = row.Length;
        // Shifted by the smallest distance so that exp does not underflow to a zero sum for far-apart points.
        var nearest = double.PositiveInfinity;
        for (var j = 0; j < n; j++)
            if (j != i) nearest = Math.Min(nearest, distances[i, j]);
        var sum = 0.0;
        for (var j = 0; j < n; j++)
        {
            row[j] = j == i ? 0 : Math.Exp(-(distances[i, j] - nearest) * beta);
            sum += row[j];
        }
        var entropy = 0.0;
        for (var j = 0; j < n; j++)
        {
            row[j] /= sum;
            if (row[j] > 1e-300) entropy -= row[j] * Math.Log(row[j]);
        }
        return (entropy, sum);
    }

    /// <summary>A standard normal draw (Box–Muller), from the seeded generator only.</summary>
    private static double Gaussian(Random random)
    {
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
