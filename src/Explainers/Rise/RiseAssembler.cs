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
        ArgumentNullException.ThrowIfNull(p);
        p.Validate();
        if (width < 1 || height < 1)
            throw new ArgumentException($"image must be at least 1x1, got {width}x{height}");
        if (targetCount < 1)
            throw new ArgumentException($"at least one target is required, got {targetCount}", nameof(targetCount));
        if (scores.Length != (long)p.Samples * targetCount)
            throw new ArgumentException(
                $"scores must hold {p.Samples} samples x {targetCount} targets = {(long)p.Samples * targetCount} values, got {scores.Length}",
                nameof(scores));

        int pixels = width * height;
        var sums = new double[targetCount][];
        for (var t = 0; t < targetCount; t++) sums[t] = new double[pixels];
        var mask = new float[pixels];
        for (var i = 0; i < p.Samples; i++)
        {
            RiseMasks.Mask(p, width, height, i, mask);
            for (var t = 0; t < targetCount; t++)
            {
                double score = scores[i * targetCount + t];
                if (score == 0) continue;
                var sum = sums[t];
                for (var q = 0; q < pixels; q++) sum[q] += score * mask[q];
            }
        }

        double scale = 1.0 / ((double)p.Samples * p.Density);
        var maps = new float[targetCount][];
        for (var t = 0; t < targetCount; t++)
        {
            maps[t] = new float[pixels];
            for (var q = 0; q < pixels; q++) maps[t][q] = (float)(sums[t][q] * scale);
        }
        return maps;
    }
}
