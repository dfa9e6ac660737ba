namespace Lantern.Explainers.Lime;

/// <summary>
/// Small dense symmetric positive (semi-)definite solves in double, row-major, for the local surrogate fits of LIME and
/// KernelSHAP (at most a few hundred unknowns, so O(n³) Cholesky is cheap next to the model evaluations).
/// </summary>
internal static class DenseSolver
{
    /// <summary>
    /// Solves <paramref name="a"/> x = <paramref name="b"/> for symmetric <paramref name="a"/> (n×n, row-major; only the
    /// lower triangle is read) by Cholesky. If <paramref name="a"/> is not numerically positive definite (an exactly
    /// collinear design, e.g. ordinary least squares with a feature that never varies), a ridge of 1e-10·mean diagonal is
    /// added and grown ×100 until it factorises: an approximation of the minimum-norm least-squares solution that sklearn's
    /// Ridge(alpha=0) falls back to through lstsq. Inputs are not modified.
    /// </summary>
    public static double[] SolveSymmetric(ReadOnlySpan<double> a, int n, ReadOnlySpan<double> b)
    {
        if (a.Length != n * n || b.Length != n)
            throw new ArgumentException($"need a {n}x{n} matrix and {n} right-hand sides, got {a.Length} and {b.Length}");
        var x = new double[n];
        if (n == 0) return x;

        var l = new double[n * n];
        double meanDiagonal = 0;
        for (var i = 0; i < n; i++) meanDiagonal += Math.Abs(a[i * n + i]);
        meanDiagonal = meanDiagonal > 0 ? meanDiagonal / n : 1;

        double jitter = 0;
        while (!TryCholesky(a, n, jitter, l))
        {
            jitter = jitter == 0 ? 1e-10 * meanDiagonal : jitter * 100;
            if (jitter > 1e6 * meanDiagonal)
                throw new ArithmeticException("the least-squares system is not finite (NaN or infinite scores?)");
        }

        // L y = b, then Lᵀ x = y.
        b.CopyTo(x);
        for (var i = 0; i < n; i++)
        {
            double s = x[i];
            for (var k = 0; k < i; k++) s -= l[i * n + k] * x[k];
            x[i] = s / l[i * n + i];
        }
        for (var i = n - 1; i >= 0; i--)
        {
            double s = x[i];
            for (var k = i + 1; k < n; k++) s -= l[k * n + i] * x[k];
            x[i] = s / l[i * n + i];
        }
        return x;
    }

    /// <summary>L Lᵀ = A + jitter·I into the lower triangle of <paramref name="l"/>; false when a pivot is not positive.</summary>
    private static bool TryCholesky(ReadOnlySpan<double> a, int n, double jitter, double[] l)
    {
        // A pivot this small relative to its diagonal entry means the column is (numerically) a combination of earlier ones.
        const double relativePivot = 1e-13;
        for (var j = 0; j < n; j++)
        {
            double diagonal = a[j * n + j] + jitter;
            double d = diagonal;
            for (var k = 0; k < j; k++) d -= l[j * n + k] * l[j * n + k];
            if (!(d > relativePivot * Math.Abs(diagonal)) || !double.IsFinite(d)) return false;
            double pivot = Math.Sqrt(d);
            l[j * n + j] = pivot;
            for (var i = j + 1; i < n; i++)
            {
                double s = a[i * n + j];
                for (var k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
                l[i * n + j] = s / pivot;
            }
        }
        return true;
    }
}
