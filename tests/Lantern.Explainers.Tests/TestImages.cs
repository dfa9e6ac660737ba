using Lantern.Explainers.Imaging;

namespace Lantern.Explainers.Tests;

internal static class TestImages
{
    public static RgbImage Random(int width, int height, int seed, float min = 0, float max = 255)
    {
        var random = new Random(seed);
        var pixels = new float[width * height * 3];
        for (var i = 0; i < pixels.Length; i++)
            pixels[i] = min + (float)random.NextDouble() * (max - min);
        return new RgbImage(width, height, pixels);
    }

    public static RgbImage Constant(int width, int height, float r, float g, float b)
    {
        var pixels = new float[width * height * 3];
        for (var i = 0; i < pixels.Length; i += 3)
            (pixels[i], pixels[i + 1], pixels[i + 2]) = (r, g, b);
        return new RgbImage(width, height, pixels);
    }

    public static Preprocessing Stretch(int width, int height, ChannelOrder order = ChannelOrder.Rgb,
        TensorLayout layout = TensorLayout.Nchw) =>
        new(width, height, ResizeMode.Stretch, 0, order, layout, 1 / 255f, [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);

    public static Preprocessing CenterCrop(int width, int height, int shorterSide) =>
        new(width, height, ResizeMode.ShorterSideCenterCrop, shorterSide, ChannelOrder.Rgb, TensorLayout.Nchw,
            1 / 255f, [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);

    public static float[] Preprocess(ImagePreprocessor preprocessor, float[] source)
    {
        var tensor = new float[preprocessor.TensorLength];
        preprocessor.Write(source, tensor);
        return tensor;
    }

    /// <summary>Asserts equality of every float's bit pattern, reporting the first difference.</summary>
    public static void AssertBitIdentical(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string context = "")
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{context} element {i}: expected {expected[i]:R}, got {actual[i]:R}");
        }
    }
}
