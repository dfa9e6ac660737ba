namespace Lantern.Imaging;

/// <summary>
/// The colour maps overlays can use, as 256-entry tables: MATLAB's jet, matplotlib's perceptual viridis and inferno,
/// gray, and two diverging maps centred on zero: Captum's red-white-green (<c>visualize_image_attr</c> with
/// <c>sign="all"</c>) and matplotlib's blue-white-red <c>bwr</c>.
/// </summary>
public static class Colormaps
{
    public const string Jet = "jet";
    public const string Viridis = "viridis";
    public const string Inferno = "inferno";
    public const string Gray = "gray";
    public const string RedWhiteGreen = "rdwhgn";
    public const string BlueWhiteRed = "bwr";

    public static IReadOnlyList<string> Names { get; } = [Jet, Viridis, Inferno, Gray, RedWhiteGreen, BlueWhiteRed];

    private const int Size = 256;

    // matplotlib's viridis and inferno at 0, 1/9, …, 1 (their _cm_listed tables, every 28th entry), linearly interpolated.
    private static readonly int[] ViridisAnchors =
        [0x440154, 0x482878, 0x3e4989, 0x31688e, 0x26828e, 0x1f9e89, 0x35b779, 0x6ece58, 0xb5de2b, 0xfde725];
    private static readonly int[] InfernoAnchors =
        [0x000004, 0x1b0c41, 0x4a0c6b, 0x781c6d, 0xa52c60, 0xcf4446, 0xed6925, 0xfb9b06, 0xf7d13d, 0xfcffa4];

    private static readonly Dictionary<string, (byte R, byte G, byte B)[]> Tables = new()
    {
        [Jet] = [.. Enumerable.Range(0, Size).Select(i => HeatmapOverlay.Jet((i + 0.5) / Size))],
        [Viridis] = Interpolated(ViridisAnchors),
        [Inferno] = Interpolated(InfernoAnchors),
        [Gray] = Interpolated([0x000000, 0xffffff]),
        // matplotlib's named colours "red", "white", "green" (#008000), as Captum's LinearSegmentedColormap RdWhGn.
        [RedWhiteGreen] = Interpolated([0xff0000, 0xffffff, 0x008000]),
        [BlueWhiteRed] = Interpolated([0x0000ff, 0xffffff, 0xff0000]),
    };

    /// <summary>Diverging maps are white at their centre: an overlay in one fades the colour with |value|.</summary>
    public static bool IsDiverging(string name) => name is RedWhiteGreen or BlueWhiteRed;

    /// <exception cref="ArgumentException">An unknown name; the message lists the known ones.</exception>
    public static (byte R, byte G, byte B)[] Table(string name) =>
        Tables.TryGetValue(name, out var table)
            ? table
            : throw new ArgumentException($"colour map '{name}' is not one of: {string.Join(", ", Names)}");

    /// <summary>The colour at <paramref name="t"/> in [0, 1] (clamped; NaN is 0).</summary>
    public static (byte R, byte G, byte B) At((byte R, byte G, byte B)[] table, double t) =>
        table[(int)Math.Clamp(Math.Floor((double.IsNaN(t) ? 0 : t) * table.Length), 0, table.Length - 1)];

    private static (byte, byte, byte)[] Interpolated(int[] anchors)
    {
        var table = new (byte, byte, byte)[Size];
        for (var i = 0; i < Size; i++)
        {
            double position = (double)i / (Size - 1) * (anchors.Length - 1);
            int k = Math.Min((int)position, anchors.Length - 2);
            double f = position - k;
            byte Channel(int shift) => (byte)Math.Round(
                ((anchors[k] >> shift) & 0xff) * (1 - f) + ((anchors[k + 1] >> shift) & 0xff) * f);
            table[i] = (Channel(16), Channel(8), Channel(0));
        }
        return table;
    }
}
