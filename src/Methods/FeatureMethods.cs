using Lantern.Contracts.Messages;
using Lantern.Explainers.Imaging;
using ExplainerSegmentation = Lantern.Explainers.Segmentation.Segmentation;

namespace Lantern.Methods;

/// <summary>What LIME and KernelSHAP share: a stored segmentation and the colours that hide a switched-off feature.</summary>
internal static class FeatureMethods
{
    public static ExplainerSegmentation Require(ExplainerSegmentation? segmentation, string method) =>
        segmentation ?? throw new InvalidOperationException($"{method} needs the job's segmentation");

    /// <summary>Per-feature RGB (FeatureCount × 3) painted over a feature that a sample switches off.</summary>
    public static float[] HideColours(Fill hide, ExplainerSegmentation segmentation, RgbImage image)
    {
        var (r, g, b) = hide.Kind switch
        {
            Fill.Types.Kind.FeatureMean => (float.NaN, float.NaN, float.NaN),
            Fill.Types.Kind.Mean => Means(image),
            Fill.Types.Kind.Constant => (hide.R, hide.G, hide.B),
            Fill.Types.Kind.Zero => (0f, 0f, 0f),
            _ => throw new ArgumentException($"hide colour {hide.Kind} is not available for feature-based methods"),
        };
        if (float.IsNaN(r)) return segmentation.MeanColours(image);
        var colours = new float[segmentation.FeatureCount * 3];
        for (var f = 0; f < segmentation.FeatureCount; f++) (colours[3 * f], colours[3 * f + 1], colours[3 * f + 2]) = (r, g, b);
        return colours;
    }

    public static System.Text.Json.Nodes.JsonObject SegmentationJson(Contracts.Messages.Segmentation s, int featureCount) => new()
    {
        ["method"] = s.Method,
        ["segments"] = s.Segments,
        ["compactness"] = s.Compactness,
        ["scale"] = s.Scale,
        ["sigma"] = s.Sigma,
        ["min_size"] = s.MinSize,
        ["feature_count"] = featureCount,
    };

    private static (float, float, float) Means(RgbImage image)
    {
        var means = image.ChannelMeans();
        return (means[0], means[1], means[2]);
    }
}
