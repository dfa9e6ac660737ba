using System.CommandLine;
using Lantern.Contracts.Api;

namespace Lantern.Cli.Commands;

/// <summary>How the overlay pictures are drawn: --colormap, --alpha, --sign, --outlier-percent (explain and result).</summary>
public sealed class PictureOptions
{
    public Option<string?> Colormap { get; } = new("--colormap") { Description = "Overlay colours: jet, viridis, inferno, gray, rdwhgn (diverging, Captum), bwr (diverging) (default: rdwhgn for signed maps, jet otherwise)" };
    public Option<float?> Alpha { get; } = new("--alpha") { Description = "Overlay opacity in [0,1] (default 0.5; a diverging map fades to the photo at zero)" };
    public Option<string?> Sign { get; } = new("--sign") { Description = "Which values to draw: all, positive, negative, absolute (default: all for maps with negative values)" };
    public Option<float?> OutlierPercent { get; } = new("--outlier-percent") { Description = "Clip the colour scale at the top N % of |values| (Captum outlier_perc; default 2 for gradient methods, else 0)" };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Colormap, Alpha, Sign, OutlierPercent }) command.Options.Add(option);
    }

    public OverlayStyle Style(ParseResult parsed)
    {
        var style = new OverlayStyle { Colormap = parsed.GetValue(Colormap) ?? "", Sign = parsed.GetValue(Sign) ?? "" };
        if (parsed.GetValue(Alpha) is { } alpha) style.Alpha = alpha;
        if (parsed.GetValue(OutlierPercent) is { } outliers) style.OutlierPercent = outliers;
        return style;
    }
}
