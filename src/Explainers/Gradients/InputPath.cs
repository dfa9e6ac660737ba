using Lantern.Explainers.Sampling;

namespace Lantern.Explainers.Gradients;

/// <summary>
/// The model inputs of the input-gradient methods, numbered. Evaluation i is sample s = i / Steps, path point k = i % Steps:
/// the sample's end point is x_s = x (+ Gaussian noise for SmoothGrad), and the point is x0 + α_k (x_s − x0) on the straight
/// path from the baseline x0 (integrated gradients), or x_s itself. Integrated gradients without noise appends two
/// evaluations, of x and of x0, whose scores give the completeness check f(x) − f(x0) and which add nothing to the map.
/// Noise comes from the counter-based generator keyed by (seed, sample), so any worker rebuilds any evaluation.
/// </summary>
public sealed class InputPath : IPerturber
{
    private readonly float[] _input;
    private readonly float[] _baseline;
    private readonly PathIntegral? _path;
    private readonly int _samples;
    private readonly float _noiseSigma;
    private readonly ulong _seed;

    /// <param name="path">Integrated gradients' quadrature; null for a single point per sample.</param>
    /// <param name="samples">SmoothGrad's noisy copies; 1 (with sigma 0) for none.</param>
    /// <param name="noiseSigma">Standard deviation of the noise, in input-tensor units.</param>
    public InputPath(float[] input, float[] baseline, PathIntegral? path, int samples, float noiseSigma, ulong seed)
    {
        if (baseline.Length != input.Length) throw new ArgumentException("baseline and input differ in length");
        if (samples < 1) throw new ArgumentOutOfRangeException(nameof(samples), "at least one sample");
        (_input, _baseline, _path, _samples, _noiseSigma, _seed) = (input, baseline, path, samples, noiseSigma, seed);
        Count = (long)samples * Steps + (HasCompletenessPair ? 2 : 0);
    }

    public int Steps => _path?.Steps ?? 1;
    public long Count { get; }

    /// <summary>Integrated gradients without noise: evaluations Count − 2 and Count − 1 are x and x0.</summary>
    public bool HasCompletenessPair => _path is not null && _samples == 1;
    public long InputIndex => Count - 2;
    public long BaselineIndex => Count - 1;

    /// <summary>How much evaluation i's gradient counts in the map: the quadrature weight over the sample count.</summary>
    public float Weight(long index)
    {
        if (index >= (long)_samples * Steps) return 0; // the completeness pair
        var k = (int)(index % Steps);
        return (float)((_path?.Weights[k] ?? 1.0) / _samples);
    }

    public void Write(long index, Span<float> tensor)
    {
        if (HasCompletenessPair && index >= InputIndex)
        {
            (index == InputIndex ? _input : _baseline).CopyTo(tensor);
            return;
        }
        WriteEndPoint(index, tensor);
        if (_path is null) return;
        var alpha = (float)_path.Alphas[index % Steps];
        for (var j = 0; j < tensor.Length; j++) tensor[j] = _baseline[j] + alpha * (tensor[j] - _baseline[j]);
    }

    /// <summary>
    /// The factor gradient × factor uses: x_s − x0 for integrated gradients (its attribution is (x − x0) ⊙ ∫ g), the
    /// evaluated input itself for gradient × input.
    /// </summary>
    public void WriteProductFactor(long index, Span<float> factor)
    {
        if (_path is null)
        {
            Write(index, factor);
            return;
        }
        WriteEndPoint(index, factor);
        for (var j = 0; j < factor.Length; j++) factor[j] -= _baseline[j];
    }

    private void WriteEndPoint(long index, Span<float> tensor)
    {
        _input.CopyTo(tensor);
        if (_noiseSigma == 0) return;
        var random = new CounterRandom(_seed, index / Steps);
        for (var j = 0; j < tensor.Length; j += 2)
        {
            // Box–Muller: two uniforms give two independent normals.
            var u1 = 1.0 - random.Double(j);
            var u2 = random.Double(j + 1);
            var radius = _noiseSigma * Math.Sqrt(-2 * Math.Log(u1));
            tensor[j] += (float)(radius * Math.Cos(2 * Math.PI * u2));
            if (j + 1 < tensor.Length) tensor[j + 1] += (float)(radius * Math.Sin(2 * Math.PI * u2));
        }
    }

    /// <summary>SmoothGrad's σ: a fraction of the input tensor's value range (Smilkov et al.'s noise level).</summary>
    public static float NoiseSigma(ReadOnlySpan<float> input, float fraction)
    {
        if (input.IsEmpty) return 0;
        var (min, max) = (input[0], input[0]);
        foreach (var v in input) (min, max) = (Math.Min(min, v), Math.Max(max, v));
        return fraction * (max - min);
    }
}
