using Lantern.Cluster.Tests.Synthetic;
using Lantern.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;

namespace Lantern.Cluster.Tests.ModelsAndImaging;

public sealed class ImageDecoderTests
{
    [Fact]
    public void A_JPEG_photo_decodes_to_RGB_floats_in_0_to_255()
    {
        var bytes = File.ReadAllBytes(SharedData.Image("golden_retriever.jpg"));

        var image = ImageDecoder.Decode(bytes);

        Assert.Equal(ImageDecoder.Identify(bytes), (image.Width, image.Height));
        Assert.Equal(3L * image.Width * image.Height, image.Pixels.Length);
        Assert.All(image.Pixels, v => Assert.InRange(v, 0f, 255f));
        Assert.True(image.Pixels.Max() > 200 && image.Pixels.Min() < 50, "a photo has both bright and dark pixels");
    }

    [Theory]
    [InlineData("bald_eagle.jpg")]
    [InlineData("bridge.jpg")]
    [InlineData("cat.jpg")]
    [InlineData("coyote.jpg")]
    [InlineData("flamingo.jpg")]
    [InlineData("horses.jpg")]
    [InlineData("hummingbird.jpg")]
    [InlineData("pelican.jpg")]
    [InlineData("husky.jpg")]
    public void Every_shared_photo_decodes_whole(string file)
    {
        var image = ImageDecoder.Decode(File.ReadAllBytes(SharedData.Image(file)));

        Assert.True(image.Width > 100 && image.Height > 100);
    }

    [Fact]
    public void An_EXIF_orientation_is_applied_so_a_portrait_photo_stays_upright()
    {
        // 4 wide, 2 high, left half white; orientation 6 means "rotate 90 degrees clockwise to display".
        using var stored = new Image<Rgb24>(4, 2, new Rgb24(0, 0, 0));
        for (var y = 0; y < 2; y++)
            for (var x = 0; x < 2; x++)
                stored[x, y] = new Rgb24(255, 255, 255);
        stored.Metadata.ExifProfile = new ExifProfile();
        stored.Metadata.ExifProfile.SetValue(ExifTag.Orientation, (ushort)6);
        using var png = new MemoryStream();
        stored.SaveAsPng(png);

        var image = ImageDecoder.Decode(png.ToArray());

        Assert.Equal((2, 4), (image.Width, image.Height));
        Assert.Equal(255f, image.Pixels[0]); // the stored left (white) half is now on top
        Assert.Equal(0f, image.Pixels[3 * 2 * 3]); // row 3 is black
        Assert.Equal((4, 2), ImageDecoder.Identify(png.ToArray())); // the header size, before orientation
    }

    [Fact]
    public void An_image_above_100_megapixels_is_refused_from_its_header_alone()
    {
        // A BMP header for 20000 x 6000 x 24 bit (120 MP) with no pixel data behind it.
        var header = new byte[54];
        "BM"u8.CopyTo(header);
        BitConverter.GetBytes(54).CopyTo(header, 10); // pixel data offset
        BitConverter.GetBytes(40).CopyTo(header, 14); // BITMAPINFOHEADER
        BitConverter.GetBytes(20_000).CopyTo(header, 18);
        BitConverter.GetBytes(6_000).CopyTo(header, 22);
        BitConverter.GetBytes((short)1).CopyTo(header, 26);
        BitConverter.GetBytes((short)24).CopyTo(header, 28);

        Assert.Equal((20_000, 6_000), ImageDecoder.Identify(header));
        var e = Assert.Throws<InvalidImageException>(() => ImageDecoder.Decode(header));
        Assert.Contains("120 megapixels", e.Message);
        Assert.Contains("at most 100", e.Message);
    }

    [Fact]
    public void The_tench_PNG_decodes_at_224_by_224()
    {
        var bytes = File.ReadAllBytes(SharedData.Image("tench.png"));

        var image = ImageDecoder.Decode(bytes);

        Assert.Equal((224, 224), (image.Width, image.Height));
        Assert.Equal((224, 224), ImageDecoder.Identify(bytes));
    }

    [Fact]
    public void Truncated_JPEG_bytes_are_not_a_readable_image()
    {
        var bytes = File.ReadAllBytes(SharedData.Image("golden_retriever.jpg"));

        var e = Assert.Throws<InvalidImageException>(() => ImageDecoder.Decode(bytes[..(bytes.Length * 2 / 3)]));
        Assert.StartsWith("the uploaded bytes are not a readable image (JPEG, PNG, BMP, GIF or WebP)", e.Message);
    }

    [Fact]
    public void Truncated_PNG_bytes_are_not_a_readable_image()
    {
        var bytes = File.ReadAllBytes(SharedData.Image("tench.png"));

        Assert.Throws<InvalidImageException>(() => ImageDecoder.Decode(bytes[..(bytes.Length / 2)]));
    }

    [Fact]
    public void Random_bytes_are_not_a_readable_image()
    {
        var garbage = new byte[10_000];
        new Random(3).NextBytes(garbage);

        var e = Assert.Throws<InvalidImageException>(() => ImageDecoder.Decode(garbage));
        Assert.StartsWith("the uploaded bytes are not a readable image", e.Message);
        Assert.Throws<InvalidImageException>(() => ImageDecoder.Identify(garbage));
        Assert.Throws<InvalidImageException>(() => ImageDecoder.Decode([]));
    }

    [Fact]
    public void A_PNG_the_overlay_wrote_decodes_back_to_its_pixels()
    {
        var image = new Lantern.Explainers.Imaging.RgbImage(3, 2, [.. Enumerable.Range(0, 18).Select(i => (float)(i * 10))]);

        var decoded = ImageDecoder.Decode(HeatmapOverlay.RenderPng(image, new float[6]));

        var (r, g, b) = HeatmapOverlay.Jet(0);
        Assert.Equal(Math.Round(0.5 * 0 + 0.5 * r), decoded.Pixels[0]);
        Assert.Equal(Math.Round(0.5 * 170 + 0.5 * b), decoded.Pixels[17]);
        Assert.Equal((3, 2), (decoded.Width, decoded.Height));
        _ = g;
    }
}
