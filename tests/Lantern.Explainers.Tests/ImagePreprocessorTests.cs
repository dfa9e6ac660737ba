using Lantern.Explainers.Imaging;

namespace Lantern.Explainers.Tests;

public class ImagePreprocessorTests
{
    [Fact]
    public void Stretching_to_the_same_size_only_applies_scale_mean_and_std()
    {
        var image = TestImages.Random(7, 5, seed: 1);
        var p = TestImages.Stretch(7, 5);
        var tensor = TestImages.Preprocess(new ImagePreprocessor(7, 5, p), image.Pixels);

        for (var c = 0; c < 3; c++)
        for (var y = 0; y < 5; y++)
        for (var x = 0; x < 7; x++)
        {
            float expected = (image.Pixels[(y * 7 + x) * 3 + c] * p.Scale - p.Mean[c]) / p.Std[c];
            Assert.Equal(expected, tensor[(c * 5 + y) * 7 + x]);
        }
    }

    [Fact]
    public void Halving_a_row_uses_PILs_antialiased_1_3_3_1_weights()
    {
        // Downscaling by 2 widens the triangle filter to a support of 2 source pixels: interior weights are 1/8, 3/8, 3/8, 1/8.
        var pixels = new float[8 * 3];
        for (var x = 0; x < 8; x++) pixels[x * 3] = 8 * x;
        var p = new Preprocessing(4, 1, ResizeMode.Stretch, 0, ChannelOrder.Rgb, TensorLayout.Nchw, 1, [0, 0, 0], [1, 1, 1]);

        var tensor = TestImages.Preprocess(new ImagePreprocessor(8, 1, p), pixels);

        Assert.Equal((1 * 8 + 3 * 16 + 3 * 24 + 1 * 32) / 8f, tensor[1]);
        Assert.Equal((1 * 24 + 3 * 32 + 3 * 40 + 1 * 48) / 8f, tensor[2]);
    }

    [Theory]
    [InlineData(ResizeMode.Stretch)]
    [InlineData(ResizeMode.ShorterSideCenterCrop)]
    public void A_constant_image_stays_constant_when_downscaled(ResizeMode mode)
    {
        var image = TestImages.Constant(97, 61, 200, 100, 50);
        var p = new Preprocessing(32, 32, mode, 40, ChannelOrder.Rgb, TensorLayout.Nhwc, 1, [0, 0, 0], [1, 1, 1]);

        var tensor = TestImages.Preprocess(new ImagePreprocessor(97, 61, p), image.Pixels);

        for (var i = 0; i < tensor.Length; i += 3)
        {
            Assert.Equal(200f, tensor[i], 0.001f);
            Assert.Equal(100f, tensor[i + 1], 0.001f);
            Assert.Equal(50f, tensor[i + 2], 0.001f);
        }
    }

    [Fact]
    public void Centre_crop_takes_the_middle_of_the_resized_image()
    {
        // 8 wide, 4 high, shorter side 4 keeps the size; the 4x4 crop starts at column 2.
        var pixels = new float[8 * 4 * 3];
        for (var y = 0; y < 4; y++)
        for (var x = 0; x < 8; x++)
            pixels[(y * 8 + x) * 3] = 10 * x + y;
        var p = new Preprocessing(4, 4, ResizeMode.ShorterSideCenterCrop, 4, ChannelOrder.Rgb, TensorLayout.Nchw, 1, [0, 0, 0], [1, 1, 1]);

        var tensor = TestImages.Preprocess(new ImagePreprocessor(8, 4, p), pixels);

        for (var y = 0; y < 4; y++)
        for (var x = 0; x < 4; x++)
            Assert.Equal(10 * (x + 2) + y, tensor[y * 4 + x]);
    }

    [Fact]
    public void BGR_models_get_the_channels_swapped_with_their_own_mean_and_std()
    {
        var image = TestImages.Random(23, 17, seed: 2);
        var rgb = TestImages.Stretch(11, 9);
        var bgr = rgb with { ChannelOrder = ChannelOrder.Bgr, Mean = [.. rgb.Mean.Reverse()], Std = [.. rgb.Std.Reverse()] };

        var fromRgb = TestImages.Preprocess(new ImagePreprocessor(23, 17, rgb), image.Pixels);
        var fromBgr = TestImages.Preprocess(new ImagePreprocessor(23, 17, bgr), image.Pixels);

        int plane = 11 * 9;
        for (var c = 0; c < 3; c++)
            TestImages.AssertBitIdentical(fromRgb.AsSpan((2 - c) * plane, plane), fromBgr.AsSpan(c * plane, plane), $"channel {c}");
    }

    [Fact]
    public void NHWC_holds_the_NCHW_values_transposed()
    {
        var image = TestImages.Random(23, 17, seed: 3);
        var nchw = TestImages.Stretch(11, 9);
        var nhwc = nchw with { Layout = TensorLayout.Nhwc };

        var planar = TestImages.Preprocess(new ImagePreprocessor(23, 17, nchw), image.Pixels);
        var interleaved = TestImages.Preprocess(new ImagePreprocessor(23, 17, nhwc), image.Pixels);

        for (var c = 0; c < 3; c++)
        for (var y = 0; y < 9; y++)
        for (var x = 0; x < 11; x++)
            Assert.Equal(planar[(c * 9 + y) * 11 + x], interleaved[(y * 11 + x) * 3 + c]);
    }

    public static TheoryData<int, int, Preprocessing> Resizes => new()
    {
        { 97, 61, TestImages.CenterCrop(32, 32, 40) },                               // downscale + crop
        { 97, 61, TestImages.Stretch(30, 20, layout: TensorLayout.Nhwc) },           // downscale, anisotropic
        { 13, 9, TestImages.Stretch(40, 30, ChannelOrder.Bgr) },                     // upscale
        { 9, 14, TestImages.CenterCrop(16, 20, 18) },                                // upscale + crop, portrait
    };

    [Theory]
    [MemberData(nameof(Resizes))]
    public void WriteRegion_matches_a_full_Write_bit_for_bit_for_random_rectangles(int width, int height, Preprocessing p)
    {
        var preprocessor = new ImagePreprocessor(width, height, p);
        var original = TestImages.Random(width, height, seed: 4).Pixels;
        var baseTensor = TestImages.Preprocess(preprocessor, original);
        var random = new Random(5);

        for (var trial = 0; trial < 200; trial++)
        {
            int x = random.Next(width), y = random.Next(height);
            var rect = new PixelRect(x, y, random.Next(1, width - x + 1), random.Next(1, height - y + 1));
            var changed = (float[])original.Clone();
            for (var sy = rect.Y; sy < rect.Bottom; sy++)
            for (var i = (sy * width + rect.X) * 3; i < (sy * width + rect.Right) * 3; i++)
                changed[i] = (float)random.NextDouble() * 255;

            var expected = TestImages.Preprocess(preprocessor, changed);
            var actual = (float[])baseTensor.Clone();
            preprocessor.WriteRegion(changed, actual, rect);

            TestImages.AssertBitIdentical(expected, actual, $"rect {rect}");
        }
    }

    [Fact]
    public void WriteRegion_recomputes_only_the_footprint_of_the_change()
    {
        var preprocessor = new ImagePreprocessor(97, 61, TestImages.CenterCrop(32, 32, 40));
        var source = TestImages.Random(97, 61, seed: 6).Pixels;
        var tensor = new float[preprocessor.TensorLength];
        Array.Fill(tensor, float.NaN);

        preprocessor.WriteRegion(source, tensor, new PixelRect(40, 30, 1, 1));
        int written = tensor.Count(v => !float.IsNaN(v));

        Assert.InRange(written, 3, 3 * 4 * 4); // one source pixel feeds at most a few outputs per axis at a 1.5x downscale
    }

    [Fact]
    public void WriteRegion_outside_the_image_changes_nothing()
    {
        var preprocessor = new ImagePreprocessor(20, 20, TestImages.Stretch(10, 10));
        var source = TestImages.Random(20, 20, seed: 7).Pixels;
        var tensor = new float[preprocessor.TensorLength];
        Array.Fill(tensor, float.NaN);

        preprocessor.WriteRegion(source, tensor, new PixelRect(20, 0, 5, 5));
        preprocessor.WriteRegion(source, tensor, new PixelRect(3, 3, 0, 5));

        Assert.All(tensor, v => Assert.True(float.IsNaN(v)));
    }

    [Fact]
    public void A_crop_larger_than_the_resized_image_is_rejected_with_the_fix()
    {
        var error = Assert.Throws<ArgumentException>(() => new ImagePreprocessor(100, 50, TestImages.CenterCrop(64, 64, 32)));
        Assert.Contains("use a ResizeShorterSide of at least 64", error.Message);
    }
}
