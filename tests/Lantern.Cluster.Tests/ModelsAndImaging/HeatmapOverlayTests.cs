using Lantern.Explainers.Imaging;
using Lantern.Imaging;

namespace Lantern.Cluster.Tests.ModelsAndImaging;

public sealed class HeatmapOverlayTests
{
    [Fact]
    public void Jet_runs_from_MATLABs_dark_blue_through_green_to_dark_red()
    {
        // MATLAB: jet(256) rows 1, 128/129 and 256 are [0 0 0.5156], [0.5 1 0.5]-ish and [0.5 0 0].
        Assert.Equal(((byte)0, (byte)0, (byte)131), HeatmapOverlay.Jet(0));
        Assert.Equal(((byte)128, (byte)0, (byte)0), HeatmapOverlay.Jet(1));
        var (r, g, b) = HeatmapOverlay.Jet(0.5);
        Assert.Equal(255, g);
        Assert.InRange(r, 120, 136);
        Assert.InRange(b, 120, 136);
    }

    [Fact]
    public void The_overlay_is_reddish_at_the_map_maximum_and_bluish_at_the_minimum()
    {
        const int w = 20, h = 10;
        var image = new RgbImage(w, h, Enumerable.Repeat(128f, 3 * w * h).ToArray());
        var map = new float[w * h];
        for (var i = 0; i < map.Length; i++) map[i] = (i % w) - 3f; // rises left to right
        var (xMax, xMin, y) = (w - 1, 0, 4);

        var png = HeatmapOverlay.RenderPng(image, map);
        var decoded = ImageDecoder.Decode(png);

        Assert.Equal((w, h), (decoded.Width, decoded.Height));
        var hot = Rgb(decoded, xMax, y);
        var cold = Rgb(decoded, xMin, y);
        Assert.True(hot.R > hot.G + 30 && hot.R > hot.B + 30, $"max pixel {hot} should be reddish");
        Assert.True(cold.B > cold.R + 30 && cold.B > cold.G + 30, $"min pixel {cold} should be bluish");
    }

    [Fact]
    public void A_constant_map_draws_the_lowest_colour_everywhere()
    {
        var image = new RgbImage(2, 2, new float[12]);

        var decoded = ImageDecoder.Decode(HeatmapOverlay.RenderPng(image, [5f, 5f, 5f, 5f]));

        var (_, _, b) = HeatmapOverlay.Jet(0);
        Assert.All(Enumerable.Range(0, 4), i => Assert.Equal(Math.Round(b * 0.5), decoded.Pixels[3 * i + 2]));
    }

    [Fact]
    public void A_map_of_another_size_is_refused()
    {
        Assert.Throws<ArgumentException>(() => HeatmapOverlay.RenderPng(new RgbImage(2, 2, new float[12]), new float[3]));
    }

    private static (float R, float G, float B) Rgb(RgbImage image, int x, int y)
    {
        var i = 3 * (y * image.Width + x);
        return (image.Pixels[i], image.Pixels[i + 1], image.Pixels[i + 2]);
    }
}
