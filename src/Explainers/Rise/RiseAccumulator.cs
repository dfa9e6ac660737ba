using System.Runtime.InteropServices;

namespace Lantern.Explainers.Rise;

/// <summary>
/// RISE's saliency sums, fed one sample at a time in sample order: Σ_i score_i · mask_i per target, in double. Folding
/// samples as they arrive holds targets × pixels doubles however many samples a job has, and gives the same bits as
/// folding them all at the end (<see cref="RiseAssembler"/> is this fold over the whole score matrix).
/// </summary>
public sealed class RiseAccumulator
{
    private readonly RiseParameters _p;
    private readonly int _width, _height, _targetCount;
    private readonly double[][] _sums;
    private readonly float[] _mask;

    public RiseAccumulator(RiseParameters p, int width, int height, int targetCount)
    {
        ArgumentNullException.ThrowIfNull(p);
        p.Validate();
        if (width < 1 || height < 1)
            throw new ArgumentException($"image must be at least 1x1, got {width}x{height}");
        if (targetCount < 1)
            throw new ArgumentException($"at least one target is required, got {targetCount}", nameof(targetCount));
        (_p, _width, _height, _targetCount) = (p, width, height, targetCount);
        _sums = [.. Enumerable.Range(0, targetCount).Select(_ => new double[width * height])];
        _mask = new float[width * height];
    }

    /// <summary>Samples folded so far: the next <see cref="Add"/> is sample number <see cref="Samples"/>.</summary>
    public long Samples { get; private set; }

    /// <summary>Folds the next samples' scores, count × targets row-major, count a whole number.</summary>
    public void Add(ReadOnlySpan<float> scores)
    {
        if (scores.Length % _targetCount != 0)
            throw new ArgumentException($"scores must be whole rows of {_targetCount} targets, got {scores.Length} values", nameof(scores));
        var count = scores.Length / _targetCount;
        if (Samples + count > _p.Samples)
            throw new ArgumentException($"RISE draws {_p.Samples} masks; {Samples} are folded and {count} more were given", nameof(scores));
        for (var row = 0; row < count; row++, Samples++)
        {
            RiseMasks.Mask(_p, _width, _height, Samples, _mask);
            for (var t = 0; t < _targetCount; t++)
            {
                double score = scores[row * _targetCount + t];
                if (score == 0) continue;
                var sum = _sums[t];
                for (var q = 0; q < sum.Length; q++) sum[q] += score * _mask[q];
            }
        }
    }

    /// <summary>The maps, Width*Height floats per target: the sums ÷ (Samples · Density). Needs every sample folded.</summary>
    public float[][] Maps()
    {
        if (Samples != _p.Samples)
            throw new InvalidOperationException($"RISE's maps need all {_p.Samples} samples; {Samples} are folded");
        double scale = 1.0 / ((double)_p.Samples * _p.Density);
        return [.. _sums.Select(sum => sum.Select(s => (float)(s * scale)).ToArray())];
    }

    /// <summary>The fold's state, to persist: the samples folded, then the sums (little-endian doubles, target after target).</summary>
    public byte[] Save()
    {
        var bytes = new byte[sizeof(long) + _sums.Length * _sums[0].Length * sizeof(double)];
        BitConverter.TryWriteBytes(bytes, Samples);
        var at = sizeof(long);
        foreach (var sum in _sums)
        {
            MemoryMarshal.AsBytes(sum.AsSpan()).CopyTo(bytes.AsSpan(at));
            at += sum.Length * sizeof(double);
        }
        return bytes;
    }

    /// <summary>Restores what <see cref="Save"/> wrote for the same parameters, image size and targets.</summary>
    public void Load(ReadOnlySpan<byte> saved)
    {
        var expected = sizeof(long) + _sums.Length * _sums[0].Length * sizeof(double);
        if (saved.Length != expected)
            throw new ArgumentException($"a saved RISE fold of {_targetCount} targets × {_width}x{_height} holds {expected} bytes, got {saved.Length}", nameof(saved));
        var samples = BitConverter.ToInt64(saved);
        if (samples < 0 || samples > _p.Samples)
            throw new ArgumentException($"a saved RISE fold says {samples} samples of {_p.Samples}", nameof(saved));
        Samples = samples;
        var at = sizeof(long);
        foreach (var sum in _sums)
        {
            saved.Slice(at, sum.Length * sizeof(double)).CopyTo(MemoryMarshal.AsBytes(sum.AsSpan()));
            at += sum.Length * sizeof(double);
        }
    }

    /// <summary>Bytes the fold holds: its sums and one mask.</summary>
    public long HeldBytes => (long)_sums.Length * _sums[0].Length * sizeof(double) + _mask.Length * sizeof(float);
}
