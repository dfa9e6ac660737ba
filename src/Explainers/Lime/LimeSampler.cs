using Lantern.Explainers.Sampling;

namespace Lantern.Explainers.Lime;

/// <summary>
/// The on/off rows of lime_image's neighbourhood, one per sample index and computable in any order on any worker:
/// feature j of sample i &gt; 0 is <c>new CounterRandom(seed, i).Bit(j)</c>; sample 0 (the image itself) is all on.
/// </summary>
public static class LimeSampler
{
    /// <summary>Mask of sample <paramref name="index"/> over <paramref name="featureCount"/> features (true = feature kept). Sample 0 is all true.</summary>
    public static void Mask(ulong seed, long index, int featureCount, Span<bool> mask)
    {
        if (index < 0)
            throw new ArgumentOutOfRangeException(nameof(index), index, "sample index must not be negative");
        if (featureCount < 1)
            throw new ArgumentException($"at least one feature is required, got {featureCount}", nameof(featureCount));
        if (mask.Length != featureCount)
            throw new ArgumentException($"mask must hold {featureCount} values, got {mask.Length}", nameof(mask));
        if (index == 0)
        {
            mask.Fill(true);
            return;
        }
        var random = new CounterRandom(seed, index);
        for (var j = 0; j < featureCount; j++)
            mask[j] = random.Bit(j);
    }
}

/// <summary>The LIME sample masks as an <see cref="IMaskSource"/> for <see cref="MaskPerturber"/>.</summary>
public sealed class LimeMasks(ulong seed, int featureCount) : IMaskSource
{
    public int FeatureCount { get; } = featureCount >= 1
        ? featureCount
        : throw new ArgumentException($"at least one feature is required, got {featureCount}", nameof(featureCount));

    public void Mask(long index, Span<bool> mask) => LimeSampler.Mask(seed, index, FeatureCount, mask);
}
