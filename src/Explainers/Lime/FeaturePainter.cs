using Lantern.Explainers.Imaging;

namespace Lantern.Explainers.Lime;

/// <summary>Paints switched-off superpixels, as lime_image's data_labels: a hidden feature's pixels take its hide colour.</summary>
public static class FeaturePainter
{
    /// <summary>
    /// <paramref name="destinationHwc"/> := <paramref name="image"/> with every pixel whose feature is off in
    /// <paramref name="mask"/> replaced by that feature's colour, <paramref name="hideColours"/>[3f..3f+3) (R, G, B in 0..255).
    /// </summary>
    public static void Paint(RgbImage image, Segmentation.Segmentation seg, float[] hideColours, ReadOnlySpan<bool> mask,
        Span<float> destinationHwc)
    {
        Check(image, seg, hideColours);
        if (mask.Length != seg.FeatureCount)
            throw new ArgumentException($"mask must hold one value per feature ({seg.FeatureCount}), got {mask.Length}", nameof(mask));
        if (destinationHwc.Length != image.Pixels.Length)
            throw new ArgumentException($"destination must hold {image.Pixels.Length} values, got {destinationHwc.Length}",
                nameof(destinationHwc));

        var source = image.Pixels;
        var labels = seg.Labels;
        for (var p = 0; p < labels.Length; p++)
        {
            int f = labels[p], o = 3 * p;
            if (mask[f])
            {
                destinationHwc[o] = source[o];
                destinationHwc[o + 1] = source[o + 1];
                destinationHwc[o + 2] = source[o + 2];
            }
            else
            {
                destinationHwc[o] = hideColours[3 * f];
                destinationHwc[o + 1] = hideColours[3 * f + 1];
                destinationHwc[o + 2] = hideColours[3 * f + 2];
            }
        }
    }

    /// <summary>One hide colour for every feature, e.g. lime's hide_color=0 (black) or a constant grey.</summary>
    public static float[] ConstantHideColours(int featureCount, float r, float g, float b)
    {
        if (featureCount < 1)
            throw new ArgumentException($"at least one feature is required, got {featureCount}", nameof(featureCount));
        var colours = new float[3 * featureCount];
        for (var f = 0; f < featureCount; f++)
            (colours[3 * f], colours[3 * f + 1], colours[3 * f + 2]) = (r, g, b);
        return colours;
    }

    internal static void Check(RgbImage image, Segmentation.Segmentation seg, float[] hideColours)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(seg);
        ArgumentNullException.ThrowIfNull(hideColours);
        if (seg.Width != image.Width || seg.Height != image.Height)
            throw new ArgumentException(
                $"the segmentation is {seg.Width}x{seg.Height} but the image is {image.Width}x{image.Height}", nameof(seg));
        if (hideColours.Length != 3 * seg.FeatureCount)
            throw new ArgumentException(
                $"hide colours must hold 3 values (R, G, B) per feature = {3 * seg.FeatureCount}, got {hideColours.Length}",
                nameof(hideColours));
    }
}
