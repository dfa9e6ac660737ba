using MathNet.Numerics.LinearAlgebra;

namespace Lantern.Explainers.Embedding;

/// <summary>Principal component analysis: the rows projected onto their top principal axes (a thin SVD of the centred rows).</summary>
public static class Pca
{
    /// <summary>
    /// The rows of <paramref name="data"/> (n points of d values) centred and projected onto their first
    /// <paramref name="components"/> principal axes; the data unchanged (centred) when d is at most that already.
    /// </summary>
    public static double[][] Project(IReadOnlyList<float[]> data, int components)
    {
        ArgumentOutOfRangeException.ThrowIfZero(data.Count);
        var d = data[0].Length;
        if (data.Any(row => row.Length != d)) throw new ArgumentException("every point needs the same number of values");
        // One thread: MathNet's managed provider may split work across threads, and the embedding must be the same floats
        // on every run (it is a function of the dataset and the seed).
        MathNet.Numerics.Control.UseSingleThread();
        var matrix = Matrix<double>.Build.Dense(data.Count, d, (i, j) => data[i][j]);
        var mean = matrix.ColumnSums() / data.Count;
        var centred = matrix - Matrix<double>.Build.Dense(data.Count, d, (_, j) => mean[j]);
        if (d <= components) return [.. centred.EnumerateRows().Select(r => r.ToArray())];
        var svd = centred.Svd(computeVectors: true);
        var axes = svd.VT.SubMatrix(0, Math.Min(components, svd.VT.RowCount), 0, d).Transpose();
        return [.. (centred * axes).EnumerateRows().Select(r => r.ToArray())];
    }
}
