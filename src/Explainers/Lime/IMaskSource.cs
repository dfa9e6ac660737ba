namespace Lantern.Explainers.Lime;

/// <summary>Which features are kept (true) in evaluation <c>index</c>; pure, so any worker can compute any index.</summary>
public interface IMaskSource
{
    int FeatureCount { get; }

    /// <summary>Writes the mask of evaluation <paramref name="index"/>; <paramref name="mask"/> holds <see cref="FeatureCount"/> values.</summary>
    void Mask(long index, Span<bool> mask);
}
