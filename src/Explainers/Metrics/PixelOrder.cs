namespace Lantern.Explainers.Metrics;

/// <summary>The order in which the deletion and insertion metrics remove or reveal pixels: most important first.</summary>
public static class PixelOrder
{
    /// <summary>
    /// Pixel indices sorted by the map's value, descending; ties (and NaN, which ranks last) keep pixel order, so every
    /// worker builds the same curve from the same map.
    /// </summary>
    public static int[] Descending(ReadOnlySpan<float> map)
    {
        // Array.Sort is not stable: sorting (key, index) pairs makes ties resolve by index.
        var pairs = new (float Key, int Index)[map.Length];
        for (var i = 0; i < pairs.Length; i++) pairs[i] = (float.IsNaN(map[i]) ? float.PositiveInfinity : -map[i], i);
        Array.Sort(pairs, static (a, b) => a.Key != b.Key ? a.Key.CompareTo(b.Key) : a.Index.CompareTo(b.Index));
        return Array.ConvertAll(pairs, p => p.Index);
    }

    /// <summary>Pixels changed at step k of <paramref name="steps"/>: ⌊k·N/steps⌋, so step 0 changes none and the last all.</summary>
    public static int ChangedAt(int step, int steps, int pixels) => (int)((long)step * pixels / steps);
}
