namespace Lantern.Explainers.Rise;

public static class RiseAssembler
{
    /// <summary>
    /// RISE saliency per target: map = Σ_i score_i · mask_i / (N · Density), accumulated in double in sample order, over the
    /// N = Samples masks of <see cref="RiseMasks"/> (regenerated here, not shipped). <paramref name="scores"/>: Samples ×
    /// <paramref name="targetCount"/> row-major. Returns per target Width*Height floats, row-major.
    /// </summary>
    public static float[][] Assemble(RiseParameters p, int width, int height, ReadOnlySpan<float> scores, int targetCount)
    {
        var accumulator = new RiseAccumulator(p, width, height, targetCount); // checks the parameters, the size and the targets
        if (scores.Length != (long)p.Samples * targetCount)
            throw new ArgumentException(
                $"scores must hold {p.Samples} samples x {targetCount} targets = {(long)p.Samples * targetCount} values, got {scores.Length}",
                nameof(scores));
        accumulator.Add(scores);
        return accumulator.Maps();
    }
}
