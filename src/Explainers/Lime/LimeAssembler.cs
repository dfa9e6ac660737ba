namespace Lantern.Explainers.Lime;

/// <summary>
/// One local linear model of a target. <see cref="Weights"/> has one coefficient per feature (0 for features the selection
/// dropped); <see cref="SelectedFeatures"/> lists the kept ones in lime's order (forward selection: order chosen; highest
/// weights: by decreasing |weight| of the selection fit; none: by index). <see cref="Score"/> is the weighted R² of the
/// final fit on the neighbourhood, <see cref="LocalPrediction"/> its value at sample 0 (every feature on).
/// </summary>
public sealed record LimeExplanation(int Target, double Intercept, double Score, double LocalPrediction, double[] Weights, int[] SelectedFeatures);

public static class LimeAssembler
{
    // lime's LimeBase: the final model is Ridge(alpha=1), 'highest_weights' ranks by Ridge(alpha=0.01), 'forward_selection'
    // compares Ridge(alpha=0) fits by R².
    private const double FinalAlpha = 1;
    private const double HighestWeightsAlpha = 0.01;
    private const double ForwardSelectionAlpha = 0;
    private const int AutoForwardSelectionLimit = 6;

    /// <summary>
    /// Fits one local model per target, as lime's LimeBase.explain_instance_with_data with lime_image's neighbourhood.
    /// <para><paramref name="scores"/>: Samples × <paramref name="targetCount"/> row-major, the score of each target for
    /// each sample of <see cref="LimeSampler"/>; <paramref name="targets"/>: the class index of each target column.</para>
    /// <para>Sample weights: d = 1 − |z|/(√|z|·√M) (cosine distance of the on/off row z to the all-on row; 1 when z is all
    /// off, as sklearn treats a zero vector), weight = sqrt(exp(−d²/KernelWidth²)). Ridge follows sklearn with
    /// sample_weight: X and y are centred on their weighted means, (XᵀWX + αI)β = XᵀWy, intercept = ȳ − x̄ᵀβ, all in double.</para>
    /// </summary>
    public static LimeExplanation[] Explain(LimeParameters parameters, int featureCount, ReadOnlySpan<float> scores, int targetCount, int[] targets)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(targets);
        parameters.Validate();
        if (featureCount < 1)
            throw new ArgumentException($"at least one feature is required, got {featureCount}", nameof(featureCount));
        if (targetCount < 1)
            throw new ArgumentException($"at least one target is required, got {targetCount}", nameof(targetCount));
        if (targets.Length != targetCount)
            throw new ArgumentException($"targets must name {targetCount} classes, got {targets.Length}", nameof(targets));
        int n = parameters.Samples, m = featureCount;
        if (scores.Length != (long)n * targetCount)
            throw new ArgumentException(
                $"scores must hold {n} samples x {targetCount} targets = {(long)n * targetCount} values, got {scores.Length}", nameof(scores));

        var fit = new Neighbourhood(parameters, m);
        var selection = parameters.Selection == FeatureSelection.Auto
            ? parameters.NumFeatures <= AutoForwardSelectionLimit ? FeatureSelection.ForwardSelection : FeatureSelection.HighestWeights
            : parameters.Selection;

        var explanations = new LimeExplanation[targetCount];
        var y = new double[n];
        for (var t = 0; t < targetCount; t++)
        {
            for (var i = 0; i < n; i++) y[i] = scores[i * targetCount + t];
            fit.SetTarget(y);

            int[] selected = selection switch
            {
                FeatureSelection.None => Enumerable.Range(0, m).ToArray(),
                FeatureSelection.ForwardSelection => ForwardSelection(fit, parameters.NumFeatures),
                _ => HighestWeights(fit, parameters.NumFeatures),
            };

            var (beta, intercept, r2) = fit.Fit(selected, FinalAlpha);
            var weights = new double[m];
            double local = intercept;
            for (var k = 0; k < selected.Length; k++)
            {
                weights[selected[k]] = beta[k];
                local += beta[k]; // sample 0 has every feature on
            }
            explanations[t] = new LimeExplanation(targets[t], intercept, r2, local, weights, selected);
        }
        return explanations;
    }

    /// <summary>Each pixel painted with its feature's weight (Width*Height floats, row-major).</summary>
    public static float[] WeightMap(Segmentation.Segmentation segmentation, LimeExplanation explanation)
    {
        CheckPair(segmentation, explanation);
        var labels = segmentation.Labels;
        var map = new float[labels.Length];
        for (var p = 0; p < map.Length; p++)
            map[p] = (float)explanation.Weights[labels[p]];
        return map;
    }

    /// <summary>
    /// lime's get_image_and_mask(positive_only=True, num_features=k, hide_rest=False) mask: 1 for pixels of the features
    /// among the k largest weights (by decreasing weight, ties to the lower index) whose weight is positive, else 0.
    /// </summary>
    public static float[] PositiveMask(Segmentation.Segmentation segmentation, LimeExplanation explanation, int k)
    {
        CheckPair(segmentation, explanation);
        if (k < 0)
            throw new ArgumentOutOfRangeException(nameof(k), k, "the number of features must not be negative");
        // lime sorts local_exp by |weight| and then keeps the first k with weight > 0; for positive weights |w| = w.
        var order = Enumerable.Range(0, explanation.Weights.Length)
            .Where(f => explanation.Weights[f] > 0)
            .OrderByDescending(f => explanation.Weights[f])
            .ThenBy(f => f)
            .Take(k);
        var keep = new bool[explanation.Weights.Length];
        foreach (var f in order) keep[f] = true;
        var labels = segmentation.Labels;
        var mask = new float[labels.Length];
        for (var p = 0; p < mask.Length; p++)
            mask[p] = keep[labels[p]] ? 1f : 0f;
        return mask;
    }

    private static void CheckPair(Segmentation.Segmentation segmentation, LimeExplanation explanation)
    {
        ArgumentNullException.ThrowIfNull(segmentation);
        ArgumentNullException.ThrowIfNull(explanation);
        if (explanation.Weights.Length != segmentation.FeatureCount)
            throw new ArgumentException(
                $"the explanation has {explanation.Weights.Length} features but the segmentation {segmentation.FeatureCount}");
    }

    /// <summary>lime's forward_selection: greedily adds the feature whose OLS fit has the best weighted R² (first wins ties).</summary>
    private static int[] ForwardSelection(Neighbourhood fit, int numFeatures)
    {
        var used = new List<int>();
        int steps = Math.Min(numFeatures, fit.FeatureCount);
        for (var step = 0; step < steps; step++)
        {
            double best = double.NegativeInfinity;
            int bestFeature = -1;
            var subset = new int[used.Count + 1];
            used.CopyTo(subset);
            for (var f = 0; f < fit.FeatureCount; f++)
            {
                if (used.Contains(f)) continue;
                subset[^1] = f;
                double r2 = fit.Fit(subset, ForwardSelectionAlpha).R2;
                if (r2 > best || bestFeature < 0)
                {
                    best = r2;
                    bestFeature = f;
                }
            }
            used.Add(bestFeature);
        }
        return used.ToArray();
    }

    /// <summary>lime's highest_weights: Ridge(alpha 0.01) on every feature, keep the NumFeatures largest |coef| (stable sort).</summary>
    private static int[] HighestWeights(Neighbourhood fit, int numFeatures)
    {
        var all = Enumerable.Range(0, fit.FeatureCount).ToArray();
        var coef = fit.Fit(all, HighestWeightsAlpha).Beta;
        return all.OrderByDescending(f => Math.Abs(coef[f])).Take(numFeatures).ToArray(); // OrderBy is stable, as Python's sorted
    }

    /// <summary>
    /// The weighted, centred design of the neighbourhood, shared by every target and every fit: masks, kernel weights, the
    /// weighted feature means and the full weighted Gram matrix G = Σ wᵢ (xᵢ − x̄)(xᵢ − x̄)ᵀ, from which a fit on any subset
    /// takes its sub-matrix.
    /// </summary>
    private sealed class Neighbourhood
    {
        private readonly int _n;
        private readonly double[] _x;        // n×M, 0/1
        private readonly double[] _w;        // kernel weights
        private readonly double[] _mean;     // weighted feature means
        private readonly double[] _gram;     // M×M
        private readonly double _weightSum;
        private readonly double[] _xty;      // Σ w (x − x̄)(y − ȳ), per feature, for the current target
        private double[] _y = [];
        private double _yMean, _syy;

        public Neighbourhood(LimeParameters p, int m)
        {
            _n = p.Samples;
            FeatureCount = m;
            _x = new double[_n * m];
            _w = new double[_n];
            _mean = new double[m];
            _gram = new double[m * m];
            _xty = new double[m];

            var mask = new bool[m];
            double width2 = (double)p.KernelWidth * p.KernelWidth;
            for (var i = 0; i < _n; i++)
            {
                LimeSampler.Mask(p.Seed, i, m, mask);
                int on = 0;
                for (var j = 0; j < m; j++)
                {
                    if (!mask[j]) continue;
                    _x[i * m + j] = 1;
                    on++;
                }
                // cos(z, 1) = |z| / (√|z| √M) for a 0/1 row z; sklearn gives a zero row similarity 0.
                double d = on == 0 ? 1 : 1 - Math.Sqrt((double)on / m);
                _w[i] = Math.Sqrt(Math.Exp(-d * d / width2));
            }

            foreach (var w in _w) _weightSum += w;
            for (var i = 0; i < _n; i++)
            for (var j = 0; j < m; j++)
                _mean[j] += _w[i] * _x[i * m + j];
            for (var j = 0; j < m; j++) _mean[j] /= _weightSum;

            var c = new double[m];
            for (var i = 0; i < _n; i++)
            {
                double w = _w[i];
                if (w == 0) continue;
                for (var j = 0; j < m; j++) c[j] = _x[i * m + j] - _mean[j];
                for (var a = 0; a < m; a++)
                {
                    double wc = w * c[a];
                    for (var b = 0; b <= a; b++) _gram[a * m + b] += wc * c[b];
                }
            }
            for (var a = 0; a < m; a++)
            for (var b = 0; b < a; b++)
                _gram[b * m + a] = _gram[a * m + b];
        }

        public int FeatureCount { get; }

        public void SetTarget(double[] y)
        {
            int m = FeatureCount;
            _y = y;
            _yMean = 0;
            for (var i = 0; i < _n; i++) _yMean += _w[i] * y[i];
            _yMean /= _weightSum;
            _syy = 0;
            Array.Clear(_xty);
            for (var i = 0; i < _n; i++)
            {
                double wy = _w[i] * (y[i] - _yMean);
                _syy += wy * (y[i] - _yMean);
                for (var j = 0; j < m; j++) _xty[j] += wy * (_x[i * m + j] - _mean[j]);
            }
        }

        /// <summary>Weighted ridge on the features <paramref name="subset"/>; R² as sklearn's r2_score with sample_weight.</summary>
        public (double[] Beta, double Intercept, double R2) Fit(int[] subset, double alpha)
        {
            int k = subset.Length, m = FeatureCount;
            var a = new double[k * k];
            var b = new double[k];
            for (var r = 0; r < k; r++)
            {
                b[r] = _xty[subset[r]];
                for (var s = 0; s < k; s++) a[r * k + s] = _gram[subset[r] * m + subset[s]];
                a[r * k + r] += alpha;
            }
            var beta = DenseSolver.SolveSymmetric(a, k, b);

            double intercept = _yMean;
            for (var r = 0; r < k; r++) intercept -= _mean[subset[r]] * beta[r];

            double rss = 0;
            for (var i = 0; i < _n; i++)
            {
                double prediction = intercept;
                for (var r = 0; r < k; r++) prediction += beta[r] * _x[i * m + subset[r]];
                double e = _y[i] - prediction;
                rss += _w[i] * e * e;
            }
            // sklearn's r2_score (force_finite): a constant target scores 1 when fitted exactly, else 0.
            double r2 = _syy > 0 ? 1 - rss / _syy : rss == 0 ? 1 : 0;
            return (beta, intercept, r2);
        }
    }
}
