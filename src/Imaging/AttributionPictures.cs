using Lantern.Explainers.Imaging;

namespace Lantern.Imaging;

/// <summary>
/// The pictures of a result: a map over its image in a chosen style (Captum's <c>visualize_image_attr</c> signs and
/// outlier clipping, a colour bar, a MATLAB-style title), a sheet of a multi-scale job's scales, and LIME's
/// <c>get_image_and_mask(hide_rest=True)</c> view.
/// </summary>
public static class AttributionPictures
{
    /// <summary>A PNG of <paramref name="map"/> (image height×width, row-major) drawn over <paramref name="image"/>.</summary>
    public static byte[] Overlay(RgbImage image, ReadOnlySpan<float> map, OverlayStyle style)
    {
        var (rgb, scale, table) = Blend(image, map, style);
        return style.Plain
            ? Figure.Png(rgb, image.Width, image.Height)
            : Figure.Decorated(rgb, image.Width, image.Height, style.Title, new Figure.ColourBar(table, scale.Range.Low, scale.Range.High));
    }

    /// <summary>
    /// The overlay's pixels (RGB bytes at the image's size), the scale used and the colours of its bar, low to high. A diverging map goes over
    /// the grey photo (as Captum's blended_heat_map) with opacity alpha×|value|, so zero shows the photo unchanged; a
    /// sequential map goes over the colour photo with constant opacity alpha (MATLAB's imagesc with AlphaData).
    /// </summary>
    public static (byte[] Rgb, AttributionScale Scale, (byte R, byte G, byte B)[] Table) Blend(RgbImage image, ReadOnlySpan<float> map, OverlayStyle style)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(style);
        CheckSize(image, map.Length);
        style.Validated();
        var scale = AttributionScale.Of(map, style.Sign, style.OutlierPercent);
        var name = style.Colormap ?? (scale.Sign == "all" ? Colormaps.RedWhiteGreen : Colormaps.Jet);
        var table = Colormaps.Table(name);
        var diverging = Colormaps.IsDiverging(name);
        // A diverging map keeps zero at its white centre whatever the sign shown (negative magnitudes go down from it).
        double Position(double t) => scale.Sign == "all" || diverging ? ((scale.Sign == "negative" ? -t : t) + 1) / 2 : t;
        var bar = new (byte R, byte G, byte B)[256]; // bottom (the scale's low end) to top
        var lowest = scale.Sign == "all" ? -1.0 : 0.0;
        for (var k = 0; k < bar.Length; k++) bar[k] = Colormaps.At(table, Position(lowest + (1 - lowest) * (k + 0.5) / bar.Length));
        var pixels = image.Pixels;
        var rgb = new byte[pixels.Length];
        for (var i = 0; i < map.Length; i++)
        {
            var t = scale.Normalise(map[i]);
            var (r, g, b) = Colormaps.At(table, Position(t));
            double alpha = diverging ? style.Alpha * Math.Abs(t) : style.Alpha;
            float pr = pixels[3 * i], pg = pixels[3 * i + 1], pb = pixels[3 * i + 2];
            if (diverging)
                pr = pg = pb = 0.299f * pr + 0.587f * pg + 0.114f * pb; // the photo in grey, as Captum draws it under the map
            rgb[3 * i] = Mix(pr, r, alpha);
            rgb[3 * i + 1] = Mix(pg, g, alpha);
            rgb[3 * i + 2] = Mix(pb, b, alpha);
        }
        return (rgb, scale, bar);
    }

    /// <summary>
    /// lime's <c>get_image_and_mask(label, positive_only=True, hide_rest=True)</c> shown as its tutorial does
    /// (<c>mark_boundaries(temp / 2 + 0.5, mask)</c>): the features in the mask as they are, the rest grey, the mask's
    /// boundaries in yellow.
    /// </summary>
    public static byte[] LimeMask(RgbImage image, ReadOnlySpan<float> mask, string? title)
    {
        ArgumentNullException.ThrowIfNull(image);
        CheckSize(image, mask.Length);
        int w = image.Width, h = image.Height;
        var pixels = image.Pixels;
        var rgb = new byte[pixels.Length];
        var on = new bool[mask.Length];
        for (var i = 0; i < mask.Length; i++) on[i] = mask[i] > 0.5f;
        for (var y = 0; y < h; y++)
        for (var x = 0; x < w; x++)
        {
            var i = y * w + x;
            // temp / 2 + 0.5 in 0..1 units: hidden pixels (0) become mid grey, kept ones are lightened the same way.
            var boundary = (x > 0 && on[i - 1] != on[i]) || (x + 1 < w && on[i + 1] != on[i])
                           || (y > 0 && on[i - w] != on[i]) || (y + 1 < h && on[i + w] != on[i]);
            for (var c = 0; c < 3; c++)
            {
                var value = on[i] ? pixels[3 * i + c] / 2 + 127.5f : 127.5f;
                if (boundary) value = c < 2 ? 255 : 0; // skimage's default boundary colour (1, 1, 0)
                rgb[3 * i + c] = (byte)Math.Clamp(Math.Round(value), 0, 255);
            }
        }
        return title is null ? Figure.Png(rgb, w, h) : Figure.Decorated(rgb, w, h, title, null);
    }

    /// <summary>
    /// A deep dream's image: <paramref name="unitRgb"/> is R, G, B per pixel in 0..1 (AttributionMap kind "dream"); with
    /// a title band when <paramref name="title"/> is given.
    /// </summary>
    public static byte[] Dream(ReadOnlySpan<float> unitRgb, int width, int height, string? title)
    {
        if (unitRgb.Length != 3L * width * height)
            throw new ArgumentException($"a {width}x{height} dream has {3L * width * height} values, not {unitRgb.Length}");
        var rgb = new byte[unitRgb.Length];
        for (var i = 0; i < rgb.Length; i++) rgb[i] = (byte)Math.Clamp(MathF.Round(unitRgb[i] * 255), 0, 255);
        return title is null ? Figure.Png(rgb, width, height) : Figure.Decorated(rgb, width, height, title, null);
    }

    /// <summary>One sheet: each scale's map and the combined one, side by side, each on its own colour scale.</summary>
    public static byte[] Sheet(RgbImage image, IReadOnlyList<(string Caption, float[] Map)> maps, OverlayStyle style)
    {
        ArgumentNullException.ThrowIfNull(image);
        var panels = maps.Select(m =>
        {
            var (rgb, scale, _) = Blend(image, m.Map, style);
            return (rgb, image.Width, image.Height, $"{m.Caption} (±{Figure.Format(scale.Threshold)})");
        }).ToList();
        return Figure.Sheet(panels, style.Title);
    }

    private static void CheckSize(RgbImage image, int length)
    {
        if (length != (long)image.Width * image.Height)
            throw new ArgumentException(
                $"the map has {length} values but the image is {image.Width}x{image.Height}; they must be the same size");
    }

    private static byte Mix(float photo, byte colour, double alpha) =>
        (byte)Math.Clamp(Math.Round((1 - alpha) * photo + alpha * colour), 0, 255);
}
