namespace Lantern.Explainers.Metrics;

/// <summary>The deletion and insertion metrics of Petsiuk et al. 2018 (RISE), as Quantus and pytorch-grad-cam report them.</summary>
public enum MetricKind
{
    /// <summary>The image with its top pixels replaced by the deletion fill; a faithful map makes the score fall fast (low AUC).</summary>
    Deletion,

    /// <summary>The insertion fill with the image's top pixels revealed; a faithful map makes the score rise fast (high AUC).</summary>
    Insertion,
}

public static class MetricCurves
{
    public const string Deletion = "deletion";
    public const string Insertion = "insertion";

    public static IReadOnlyList<string> Names { get; } = [Deletion, Insertion];

    public static bool TryParse(string name, out MetricKind kind)
    {
        (var known, kind) = name switch
        {
            Deletion => (true, MetricKind.Deletion),
            Insertion => (true, MetricKind.Insertion),
            _ => (false, default),
        };
        return known;
    }

    public static string NameOf(MetricKind kind) => kind == MetricKind.Deletion ? Deletion : Insertion;

    /// <summary>
    /// Area under the curve by the trapezoid rule over the fraction of pixels changed, 0..1, with the points at k/steps
    /// (the same fractions as the pixels changed up to rounding, which the curve's x values state exactly).
    /// </summary>
    public static double Auc(ReadOnlySpan<float> curve)
    {
        if (curve.Length < 2) throw new ArgumentException("a curve needs at least 2 points", nameof(curve));
        var steps = curve.Length - 1;
        double area = 0;
        for (var k = 0; k < steps; k++) area += (curve[k] + (double)curve[k + 1]) / 2;
        return area / steps;
    }
}
