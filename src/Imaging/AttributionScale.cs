namespace Lantern.Imaging;

/// <summary>
/// Captum's <c>_normalize_attr</c>: which part of a map is shown (<see cref="Sign"/>) and the value where the colour scale
/// ends (<see cref="Threshold"/>, from <c>_cumulative_sum_threshold</c>); values are divided by it and clipped.
/// </summary>
public sealed record AttributionScale(string Sign, float Threshold)
{
    /// <param name="sign">null: "all" when the map has a negative value, else "positive".</param>
    public static AttributionScale Of(ReadOnlySpan<float> map, string? sign, float outlierPercent)
    {
        sign ??= HasNegative(map) ? "all" : "positive";
        var shown = new float[map.Length];
        for (var i = 0; i < map.Length; i++)
        {
            var v = float.IsFinite(map[i]) ? map[i] : 0;
            shown[i] = sign switch
            {
                "positive" => Math.Max(v, 0),
                "negative" => Math.Max(-v, 0),
                _ => Math.Abs(v), // all, absolute
            };
        }
        return new AttributionScale(sign, CumulativeSumThreshold(shown, 100 - outlierPercent));
    }

    /// <summary>In [-1, 1] for sign "all" (0 is zero), in [0, 1] otherwise; 0 when the map is all zero.</summary>
    public double Normalise(float value)
    {
        if (!float.IsFinite(value) || Threshold <= 0) return 0;
        double v = Sign switch
        {
            "all" => value,
            "positive" => Math.Max(value, 0),
            "negative" => Math.Max(-value, 0),
            _ => Math.Abs(value),
        };
        return Math.Clamp(v / Threshold, Sign == "all" ? -1 : 0, 1);
    }

    /// <summary>The map values at the bottom and top of the colour bar.</summary>
    public (double Low, double High) Range => Sign switch
    {
        "all" => (-Threshold, Threshold),
        "negative" => (0, -Threshold),
        _ => (0, Threshold),
    };

    /// <summary>
    /// Captum: sort, cumulative sum, the first value where the sum reaches <paramref name="percentile"/> % of the total.
    /// 100 gives the maximum.
    /// </summary>
    public static float CumulativeSumThreshold(float[] values, float percentile)
    {
        if (values.Length == 0) return 0;
        var sorted = (float[])values.Clone();
        Array.Sort(sorted);
        double total = 0;
        foreach (var v in sorted) total += v;
        if (total <= 0) return 0;
        double target = total * 0.01 * percentile, sum = 0;
        foreach (var v in sorted)
        {
            sum += v;
            if (sum >= target) return v;
        }
        return sorted[^1];
    }

    private static bool HasNegative(ReadOnlySpan<float> map)
    {
        foreach (var v in map)
            if (v < 0) return true;
        return false;
    }
}
