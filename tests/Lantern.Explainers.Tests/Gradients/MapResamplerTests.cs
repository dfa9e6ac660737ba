using Lantern.Explainers.Imaging;

namespace Lantern.Explainers.Tests.Gradients;

public class MapResamplerTests
{
    [Fact]
    public void Upscaling_2x2_to_4x4_matches_cv2_INTER_LINEAR()
    {
        // Half-pixel centres: output i samples source (i + ½)·2/4 − ½ = −¼, ¼, ¾, 1¼, clamped to 0, ¼, ¾, 1.
        // The map 8y + 4x is linear, so the result is 8·sy + 4·sx, as cv2.resize(m, (4, 4), interpolation=INTER_LINEAR).
        float[] map = [0, 4, 8, 12];

        var resized = MapResampler.Resize(map, 2, 2, 4, 4);

        Assert.Equal([0f, 1, 3, 4, /**/ 2, 3, 5, 6, /**/ 6, 7, 9, 10, /**/ 8, 9, 11, 12], resized);
    }

    [Fact]
    public void Upscaling_a_single_bright_corner_is_bilinear_not_separable_linear()
    {
        // 16·sy·sx at sy, sx ∈ {0, ¼, ¾, 1}.
        float[] map = [0, 0, 0, 16];
        double[] s = [0, 0.25, 0.75, 1];

        var resized = MapResampler.Resize(map, 2, 2, 4, 4);

        for (var y = 0; y < 4; y++)
        for (var x = 0; x < 4; x++)
            Assert.Equal(16 * s[y] * s[x], resized[y * 4 + x], 1e-6);
    }

    [Fact]
    public void Downscaling_samples_between_source_pixels()
    {
        // 1x4 → 1x2: output x samples (x + ½)·2 − ½ = ½, 2½ (cv2 without INTER_AREA's averaging).
        var resized = MapResampler.Resize([0, 10, 20, 30], 1, 4, 1, 2);

        Assert.Equal([5f, 25], resized);
    }

    [Fact]
    public void Aligned_corners_keep_the_corner_values_exactly()
    {
        float[] map = [0.1f, 0.7f, 0.3f, /**/ 1.9f, -2.2f, 5.5f];

        var resized = MapResampler.Resize(map, 2, 3, 5, 7, alignCorners: true);

        Assert.Equal(0.1f, resized[0]);
        Assert.Equal(0.3f, resized[6]);
        Assert.Equal(1.9f, resized[4 * 7]);
        Assert.Equal(5.5f, resized[4 * 7 + 6]);
        // Row 2 is halfway between the two source rows; column 3 is source column 1.
        Assert.Equal((0.7f + -2.2f) / 2, resized[2 * 7 + 3], 1e-6f);
    }

    [Fact]
    public void Aligned_corners_on_a_linear_map_sample_at_i_times_source_minus_1_over_target_minus_1()
    {
        float[] map = [0, 3, 6, 9]; // 1x4, value 3x

        var resized = MapResampler.Resize(map, 1, 4, 1, 7, alignCorners: true);

        for (var x = 0; x < 7; x++) Assert.Equal(3 * x * 3.0 / 6, resized[x], 1e-6);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Resizing_to_the_same_size_returns_the_same_values(bool alignCorners)
    {
        var random = new Random(4);
        var map = Enumerable.Range(0, 5 * 7).Select(_ => (float)random.NextDouble() * 10 - 5).ToArray();

        Assert.Equal(map, MapResampler.Resize(map, 5, 7, 5, 7, alignCorners));
    }

    [Fact]
    public void A_map_of_the_wrong_length_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => MapResampler.Resize(new float[5], 2, 3, 4, 4));
        Assert.Throws<ArgumentException>(() => MapResampler.InputToImage(new float[5], TestImages.Stretch(2, 2), 2, 2));
    }

    [Fact]
    public void Mapping_back_through_a_same_size_stretch_is_the_identity()
    {
        var random = new Random(5);
        var map = Enumerable.Range(0, 6 * 4).Select(_ => (float)random.NextDouble()).ToArray();

        Assert.Equal(map, MapResampler.InputToImage(map, TestImages.Stretch(6, 4), imageWidth: 6, imageHeight: 4));
    }

    [Fact]
    public void Mapping_back_through_a_stretch_rescales_to_the_image()
    {
        // A 2x2 model input over a 4x4 image: the same half-pixel geometry as Resize.
        float[] map = [0, 4, 8, 12];

        var image = MapResampler.InputToImage(map, TestImages.Stretch(2, 2), 4, 4);

        Assert.Equal(MapResampler.Resize(map, 2, 2, 4, 4), image);
    }

    [Fact]
    public void Mapping_back_through_a_centre_crop_zeroes_the_cut_columns_and_centres_the_map()
    {
        // 11x5 image, shorter side 5: no resize, and the 5x5 crop starts at column 3.
        var p = TestImages.CenterCrop(5, 5, 5);
        var map = new float[25];
        for (var y = 0; y < 5; y++)
        for (var x = 0; x < 5; x++)
            map[y * 5 + x] = 1 + x + 10 * y;

        var image = MapResampler.InputToImage(map, p, imageWidth: 11, imageHeight: 5);

        for (var y = 0; y < 5; y++)
        for (var x = 0; x < 11; x++)
            Assert.Equal(x is >= 3 and <= 7 ? map[y * 5 + x - 3] : 0f, image[y * 11 + x]);
        // The image's centre column is the model input's centre column.
        for (var y = 0; y < 5; y++) Assert.Equal(map[y * 5 + 2], image[y * 11 + 5]);
    }

    [Fact]
    public void Mapping_back_through_a_downscaling_centre_crop_is_symmetric_about_the_centre()
    {
        // 16x8 image, shorter side 4: resized to 8x4, the 4x4 crop starts at column 2. Image column x sits at input
        // column (x + ½)·8/16 − ½ − 2 = x/2 − 2¼: columns 4..11 land inside [−½, 3½], the others were cut away.
        var p = TestImages.CenterCrop(4, 4, 4);
        var map = new float[16];
        for (var y = 0; y < 4; y++)
        for (var x = 0; x < 4; x++)
            map[y * 4 + x] = x + 1;

        var image = MapResampler.InputToImage(map, p, imageWidth: 16, imageHeight: 8);

        for (var y = 0; y < 8; y++)
        {
            for (var x = 0; x < 16; x++)
            {
                var u = x / 2.0 - 2.25;
                var expected = x is >= 4 and <= 11 ? Math.Clamp(u, 0, 3) + 1 : 0;
                Assert.Equal(expected, image[y * 16 + x], 1e-6);
            }
            // The two middle columns straddle the input's centre (column 1.5, value 2.5).
            Assert.Equal(2.5, (image[y * 16 + 7] + image[y * 16 + 8]) / 2.0, 1e-6);
        }
    }

    [Theory]
    [InlineData(16, 8, 4, 4, 4, 8, 4, 2, 0)]    // wider: crop the sides
    [InlineData(8, 16, 4, 4, 4, 4, 8, 0, 2)]    // taller: crop top and bottom
    [InlineData(13, 4, 4, 4, 4, 13, 4, 4, 0)]   // (13 − 4) / 2 = 4.5 rounds half to even, as torchvision's CenterCrop
    [InlineData(15, 4, 4, 4, 4, 15, 4, 6, 0)]   // 5.5 → 6
    [InlineData(300, 200, 224, 224, 256, 384, 256, 80, 16)]
    public void Centre_crop_geometry_is_the_resized_size_and_the_crop_offset(int width, int height, int cropWidth, int cropHeight,
        int shorterSide, int resizedWidth, int resizedHeight, int cropX, int cropY)
    {
        var p = TestImages.CenterCrop(cropWidth, cropHeight, shorterSide);

        Assert.Equal((resizedWidth, resizedHeight, cropX, cropY), ImagePreprocessor.Geometry(width, height, p));
    }

    [Fact]
    public void Stretch_geometry_is_the_model_input_without_a_crop()
    {
        Assert.Equal((7, 5, 0, 0), ImagePreprocessor.Geometry(300, 200, TestImages.Stretch(7, 5)));
    }

    [Theory]
    [InlineData(11, 5, 5)]
    [InlineData(13, 4, 4)]
    [InlineData(15, 4, 4)]
    [InlineData(4, 15, 4)]
    public void The_preprocessors_crop_starts_where_Geometry_says(int width, int height, int crop)
    {
        // The shorter side is kept, so the preprocessor copies pixels: the R channel holds the source column, G the row.
        var p = new Preprocessing(crop, crop, ResizeMode.ShorterSideCenterCrop, Math.Min(width, height), ChannelOrder.Rgb,
            TensorLayout.Nchw, 1, [0, 0, 0], [1, 1, 1]);
        var pixels = new float[width * height * 3];
        for (var y = 0; y < height; y++)
        for (var x = 0; x < width; x++)
            (pixels[(y * width + x) * 3], pixels[(y * width + x) * 3 + 1]) = (x, y);

        var tensor = TestImages.Preprocess(new ImagePreprocessor(width, height, p), pixels);
        var (_, _, cropX, cropY) = ImagePreprocessor.Geometry(width, height, p);

        Assert.Equal(cropX, tensor[0]);
        Assert.Equal(cropY, tensor[crop * crop]);
    }

    [Fact]
    public void Mapping_the_preprocessed_image_back_restores_the_pixels_the_crop_kept()
    {
        // Scale 1, no resize: InputToImage undoes the centre crop exactly.
        var p = new Preprocessing(4, 4, ResizeMode.ShorterSideCenterCrop, 4, ChannelOrder.Rgb, TensorLayout.Nchw, 1, [0, 0, 0], [1, 1, 1]);
        var image = TestImages.Random(13, 4, seed: 8);

        var tensor = TestImages.Preprocess(new ImagePreprocessor(13, 4, p), image.Pixels);
        var back = MapResampler.InputToImage(tensor.AsSpan(0, 16), p, 13, 4); // the R plane

        for (var y = 0; y < 4; y++)
        for (var x = 0; x < 13; x++)
            Assert.Equal(x is >= 4 and < 8 ? image.Pixels[(y * 13 + x) * 3] : 0f, back[y * 13 + x]);
    }
}
