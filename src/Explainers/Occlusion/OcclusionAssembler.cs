namespace Lantern.Explainers.Occlusion;

/// <summary>Attribution maps, each Height*Width row-major: Combined[target] and PerScale[scale][target].</summary>
public sealed record OcclusionMaps(int Width, int Height, float[][] Combined, float[][][] PerScale);

public static class OcclusionAssembler
{
    /// <summary>
    /// Turns the model's scores for every occluded image into attribution maps.
    /// <para><paramref name="scores"/>: WindowCount (evaluations, shared windows once) × targetCount row-major; <paramref name="baseline"/>: the score of each
    /// target for the original image.</para>
    /// <para>Per scale and target, a pixel's attribution is the mean, over that scale's windows covering it, of
    /// (baseline − score), as in Captum's Occlusion: the differences are taken and summed in double, windows in index order,
    /// divided by the number of covering windows, and stored as float. A pixel no window of the scale covers gets 0.</para>
    /// <para>Combined: with one scale, that scale's map (un-normalised). With several, each scale's map is divided by its
    /// maximum absolute value (a zero map stays zero) and the scales are averaged, in double: the scale-independent
    /// sensitivity map, averaged over cover sizes.</para>
    /// </summary>
    public static OcclusionMaps Assemble(OcclusionPlan plan, ReadOnlySpan<float> baseline, ReadOnlySpan<float> scores, int targetCount)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (targetCount < 1)
            throw new ArgumentException($"at least one target is required, got {targetCount}", nameof(targetCount));
        if (baseline.Length != targetCount)
            throw new ArgumentException($"baseline must hold one score per target ({targetCount}), got {baseline.Length}", nameof(baseline));
        if (scores.Length != plan.WindowCount * targetCount)
            throw new ArgumentException(
                $"scores must hold {plan.WindowCount} windows x {targetCount} targets = {plan.WindowCount * targetCount} values, got {scores.Length}",
                nameof(scores));

        int width = plan.ImageWidth, height = plan.ImageHeight, pixels = width * height;
        var perScale = new float[plan.Scales.Count][][];
        var sums = new double[targetCount][];
        for (var t = 0; t < targetCount; t++) sums[t] = new double[pixels];
        var counts = new int[pixels];

        for (var s = 0; s < plan.Scales.Count; s++)
        {
            foreach (var sum in sums) Array.Clear(sum);
            Array.Clear(counts);

            for (long local = 0, windows = plan.WindowsOfScale(s); local < windows; local++)
            {
                var window = plan.LocalRect(s, local);
                var i = plan.EvaluationOf(s, local); // a window shared with an earlier scale reads that evaluation
                for (var y = window.Y; y < window.Bottom; y++)
                for (var x = window.X; x < window.Right; x++)
                    counts[y * width + x]++;
                for (var t = 0; t < targetCount; t++)
                {
                    double delta = (double)baseline[t] - scores[(int)(i * targetCount + t)];
                    var sum = sums[t];
                    for (var y = window.Y; y < window.Bottom; y++)
                    for (var x = window.X; x < window.Right; x++)
                        sum[y * width + x] += delta;
                }
            }

            perScale[s] = new float[targetCount][];
            for (var t = 0; t < targetCount; t++)
            {
                var map = new float[pixels];
                var sum = sums[t];
                for (var p = 0; p < pixels; p++)
                    map[p] = counts[p] == 0 ? 0f : (float)(sum[p] / counts[p]);
                perScale[s][t] = map;
            }
        }

        var combined = new float[targetCount][];
        for (var t = 0; t < targetCount; t++)
            combined[t] = perScale.Length == 1 ? (float[])perScale[0][t].Clone() : Combine(perScale, t, pixels);
        return new OcclusionMaps(width, height, combined, perScale);
    }

    private static float[] Combine(float[][][] perScale, int target, int pixels)
    {
        var acc = new double[pixels];
        foreach (var scale in perScale)
        {
            var map = scale[target];
            double maxAbs = 0;
            foreach (var v in map) maxAbs = Math.Max(maxAbs, Math.Abs((double)v));
            if (maxAbs == 0) continue; // a zero map stays zero and still counts in the average
            for (var p = 0; p < pixels; p++)
                acc[p] += map[p] / maxAbs;
        }
        var combined = new float[pixels];
        for (var p = 0; p < pixels; p++)
            combined[p] = (float)(acc[p] / perScale.Length);
        return combined;
    }
}
