namespace Lantern.Imaging;

/// <summary>How an attribution map is drawn over its image.</summary>
/// <param name="Colormap">A <see cref="Colormaps"/> name; null: <see cref="Colormaps.RedWhiteGreen"/> for sign "all", jet otherwise.</param>
/// <param name="Alpha">Opacity of the colour: constant for a sequential map (MATLAB's <c>'AlphaData', 0.5</c>), scaled by
/// |value| for a diverging one so that zero leaves the (grey) photo as it is.</param>
/// <param name="Sign">"all", "positive", "negative" or "absolute" (Captum's <c>sign</c>); null: "all" when the map has a
/// negative value, else "positive".</param>
/// <param name="OutlierPercent">Captum's <c>outlier_perc</c>: the colour scale ends where the sorted |values| reach
/// (100 − this) % of their sum, so a few extreme pixels do not wash out the rest; 0: the scale ends at the maximum.</param>
/// <param name="Title">Drawn above the picture, e.g. "golden retriever (0.95)"; null: none.</param>
/// <param name="Plain">Only the overlay at the image's size: no title, no colour bar.</param>
public sealed record OverlayStyle(
    string? Colormap = null,
    float Alpha = 0.5f,
    string? Sign = null,
    float OutlierPercent = 0,
    string? Title = null,
    bool Plain = false)
{
    public static IReadOnlyList<string> Signs { get; } = ["all", "positive", "negative", "absolute"];

    /// <exception cref="ArgumentException">A value out of range; the message says which and what is allowed.</exception>
    public OverlayStyle Validated()
    {
        if (Colormap is not null) Colormaps.Table(Colormap);
        if (Sign is not null && !Signs.Contains(Sign))
            throw new ArgumentException($"sign '{Sign}' is not one of: {string.Join(", ", Signs)}");
        if (!(Alpha is >= 0 and <= 1)) throw new ArgumentException($"alpha {Alpha} is not in [0, 1]");
        if (!(OutlierPercent is >= 0 and < 100)) throw new ArgumentException($"outlier percent {OutlierPercent} is not in [0, 100)");
        return this;
    }
}
