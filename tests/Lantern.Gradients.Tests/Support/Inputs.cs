namespace Lantern.Gradients.Tests.Support;

/// <summary>Deterministic input tensors for the finite-difference specs.</summary>
public static class Inputs
{
    /// <summary>Uniform values in [low, high): for smooth ops.</summary>
    public static Tensor Uniform(long[] shape, int seed = 3, float low = -1f, float high = 1f)
    {
        var random = new Random(seed);
        var count = (int)shape.Aggregate(1L, (a, b) => a * b);
        return new Tensor(Enumerable.Range(0, count).Select(_ => low + (high - low) * (float)random.NextDouble()).ToArray(), shape);
    }

    /// <summary>
    /// Distinct values (k + ½)·step for k = −count/2 … count/2 − 1, randomly permuted: for piecewise ops (Relu, Clip,
    /// MaxPool, HardSigmoid). Any two values differ by at least step and every value is step/2 away from each multiple of
    /// step, where those ops put their kinks (0, ±2.5, ±3, Clip bounds chosen as multiples of step). A central difference
    /// with h·max|v| ≤ h &lt; step/2 therefore never crosses a kink or swaps a max, and is exact up to rounding.
    /// </summary>
    public static Tensor Grid(long[] shape, int seed = 5, float step = 0.1f)
    {
        var random = new Random(seed);
        var count = (int)shape.Aggregate(1L, (a, b) => a * b);
        var values = Enumerable.Range(0, count).Select(k => (k - count / 2 + 0.5f) * step).ToArray();
        random.Shuffle(values);
        return new Tensor(values, shape);
    }
}
