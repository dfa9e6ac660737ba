using Lantern.Explainers.Imaging;
using Lantern.Imaging;

namespace Lantern.Cluster.Tests.ModelsAndImaging;

/// <summary>The pictures a result comes with: signed maps centred on zero, Captum's outlier clipping, colour bar and title, LIME's mask view.</summary>
public sealed class AttributionPictureTests
{
    private const int W = 30, H = 20;

    private static RgbImage Photo() // a reddish photo, so grey (diverging) and colour (sequential) bases differ
    {
        var pixels = new float[3 * W * H];
        for (var i = 0; i < W * H; i++) (pixels[3 * i], pixels[3 * i + 1], pixels[3 * i + 2]) = (200f, 100f, 50f);
        return new RgbImage(W, H, pixels);
    }

    private static float[] SignedMap() // left third negative, middle zero, right third positive
    {
        var map = new float[W * H];
        for (var y = 0; y < H; y++)
        for (var x = 0; x < W; x++)
            map[y * W + x] = x < 10 ? -2f : x < 20 ? 0f : 2f;
        return map;
    }

    private static (byte R, byte G, byte B) At(byte[] rgb, int x, int y) =>
        (rgb[3 * (y * W + x)], rgb[3 * (y * W + x) + 1], rgb[3 * (y * W + x) + 2]);

    [Fact]
    public void A_signed_map_leaves_zero_as_the_grey_photo_and_colours_positive_green_and_negative_red()
    {
        var (rgb, scale, _) = AttributionPictures.Blend(Photo(), SignedMap(), new OverlayStyle());

        Assert.Equal("all", scale.Sign);
        var grey = (byte)Math.Round(0.299 * 200 + 0.587 * 100 + 0.114 * 50);
        Assert.Equal((grey, grey, grey), At(rgb, 15, 5)); // zero: untouched grey photo, no tint
        var positive = At(rgb, 25, 5);
        var negative = At(rgb, 5, 5);
        Assert.True(positive.G > positive.R + 40, $"positive {positive} should be green");
        Assert.True(negative.R > negative.G + 40, $"negative {negative} should be red");
    }

    [Fact]
    public void Sign_positive_and_absolute_choose_which_values_light_up()
    {
        var (positive, _, _) = AttributionPictures.Blend(Photo(), SignedMap(), new OverlayStyle(Sign: "positive", Colormap: "jet"));
        var (absolute, _, _) = AttributionPictures.Blend(Photo(), SignedMap(), new OverlayStyle(Sign: "absolute", Colormap: "jet"));

        Assert.Equal(At(positive, 5, 5), At(positive, 15, 5)); // negative values drawn as zero
        Assert.NotEqual(At(positive, 5, 5), At(positive, 25, 5));
        Assert.Equal(At(absolute, 5, 5), At(absolute, 25, 5)); // |−2| = |2|
    }

    [Fact]
    public void The_colour_scale_ends_where_Captums_cumulative_sum_threshold_says()
    {
        float[] values = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 10]; // total 20
        Assert.Equal(10f, AttributionScale.CumulativeSumThreshold(values, 100));
        Assert.Equal(1f, AttributionScale.CumulativeSumThreshold(values, 50)); // the outlier no longer sets the scale
        var map = values.Concat(new float[W * H - values.Length]).ToArray();
        var clipped = AttributionScale.Of(map, null, outlierPercent: 50);
        Assert.Equal(1.0, clipped.Normalise(10f));
        Assert.Equal(1.0, clipped.Normalise(1f));
    }

    [Fact]
    public void A_colour_map_switch_changes_the_picture_and_an_unknown_one_is_refused()
    {
        var (jet, _, _) = AttributionPictures.Blend(Photo(), SignedMap(), new OverlayStyle(Colormap: "jet"));
        var (viridis, _, _) = AttributionPictures.Blend(Photo(), SignedMap(), new OverlayStyle(Colormap: "viridis"));
        Assert.NotEqual(jet, viridis);
        var error = Assert.Throws<ArgumentException>(() => AttributionPictures.Blend(Photo(), SignedMap(), new OverlayStyle(Colormap: "rainbow")));
        Assert.Contains("viridis", error.Message);
        Assert.Throws<ArgumentException>(() => new OverlayStyle(Alpha: 2).Validated());
        Assert.Throws<ArgumentException>(() => new OverlayStyle(Sign: "both").Validated());
    }

    [Fact]
    public void A_plain_overlay_has_the_image_size_and_a_decorated_one_adds_a_title_and_a_colour_bar()
    {
        var plain = ImageDecoder.Decode(AttributionPictures.Overlay(Photo(), SignedMap(), new OverlayStyle(Plain: true)));
        var decorated = ImageDecoder.Decode(AttributionPictures.Overlay(Photo(), SignedMap(), new OverlayStyle(Title: "golden retriever (0.95)")));

        Assert.Equal((W, H), (plain.Width, plain.Height));
        Assert.True(decorated.Width > W && decorated.Height > H, $"{decorated.Width}x{decorated.Height} has no room for a title and a bar");
        Assert.True(Figure.HasFont, "no font for the titles: apt-get install fonts-dejavu-core (.ci/run does)");
        var titleBand = decorated.Height - H;
        var dark = 0;
        for (var y = 0; y < titleBand; y++)
        for (var x = 0; x < decorated.Width; x++)
            if (decorated.Pixels[3 * (y * decorated.Width + x)] < 100) dark++;
        Assert.True(dark > 10, "the title band has no text in it");
    }

    [Fact]
    public void Limes_mask_view_keeps_the_features_greys_the_rest_and_marks_the_boundary_yellow()
    {
        var mask = new float[W * H];
        for (var y = 5; y < 15; y++)
        for (var x = 10; x < 20; x++)
            mask[y * W + x] = 1;

        var picture = ImageDecoder.Decode(AttributionPictures.LimeMask(Photo(), mask, title: null));

        float[] Pixel(int x, int y) => picture.Pixels[(3 * (y * W + x))..(3 * (y * W + x) + 3)];
        Assert.Equal([128f, 128f, 128f], Pixel(2, 2));                  // hidden: mid grey
        Assert.Equal([228f, 178f, 152f], Pixel(15, 10));                // kept: image / 2 + 127.5, rounded half to even
        Assert.Equal([255f, 255f, 0f], Pixel(10, 10));                  // the mask's edge
    }
}
