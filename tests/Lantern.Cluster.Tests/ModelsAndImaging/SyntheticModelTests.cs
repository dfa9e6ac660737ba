using Lantern.Cluster.Tests.Synthetic;
using Microsoft.ML.OnnxRuntime;

namespace Lantern.Cluster.Tests.ModelsAndImaging;

public sealed class SyntheticModelTests
{
    private const int H = 6, W = 8;
    private static readonly (int X, int Y, int Width, int Height) Square = (2, 1, 3, 2);

    /// <summary>Pixel value depends on channel and position, so a wrong layout or a wrong square gives a wrong mean.</summary>
    private static float Pixel(int c, int y, int x) => 10 * c + y * W + x;

    private static (double Inside, double Outside) ExpectedMeans()
    {
        double inside = 0, outside = 0;
        int nIn = 0, nOut = 0;
        for (var c = 0; c < 3; c++)
            for (var y = 0; y < H; y++)
                for (var x = 0; x < W; x++)
                {
                    var isIn = x >= Square.X && x < Square.X + Square.Width && y >= Square.Y && y < Square.Y + Square.Height;
                    if (isIn) { inside += Pixel(c, y, x); nIn++; }
                    else { outside += Pixel(c, y, x); nOut++; }
                }
        return (inside / nIn, outside / nOut);
    }

    private static float[] Input(int batch)
    {
        var data = new float[batch * 3 * H * W];
        for (var n = 0; n < batch; n++)
            for (var c = 0; c < 3; c++)
                for (var y = 0; y < H; y++)
                    for (var x = 0; x < W; x++)
                        data[((n * 3 + c) * H + y) * W + x] = Pixel(c, y, x) + 100 * n;
        return data;
    }

    private static float[] Run(byte[] model, OrtValue input)
    {
        using var session = new InferenceSession(model);
        using var options = new RunOptions();
        using var outputs = session.Run(options, [SyntheticModels.InputName], [input], [SyntheticModels.OutputName]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    [Fact]
    public void Square_brightness_scores_are_the_mean_inside_and_outside_the_square()
    {
        var model = SyntheticModels.SquareBrightness(H, W, Square);
        using var input = OrtValue.CreateTensorValueFromMemory(Input(2), [2, 3, H, W]);

        var scores = Run(model, input);

        var (inside, outside) = ExpectedMeans();
        Assert.Equal(4, scores.Length);
        Assert.Equal(inside, scores[0], 3);
        Assert.Equal(outside, scores[1], 3);
        // The second batch item is 100 brighter everywhere: both means move by exactly 100.
        Assert.Equal(inside + 100, scores[2], 3);
        Assert.Equal(outside + 100, scores[3], 3);
    }

    [Fact]
    public void The_float16_variant_takes_half_precision_input_and_gives_the_same_scores()
    {
        var model = SyntheticModels.SquareBrightness(H, W, Square, float16Input: true, fixedBatch: true);
        // Pixel values are small integers, exact in float16.
        var half = Input(1).Select(v => (Float16)v).ToArray();
        using var input = OrtValue.CreateTensorValueFromMemory(half, [1, 3, H, W]);

        var scores = Run(model, input);

        var (inside, outside) = ExpectedMeans();
        Assert.Equal(inside, scores[0], 3);
        Assert.Equal(outside, scores[1], 3);
    }

    [Fact]
    public void A_linear_model_scores_the_dot_product_plus_bias()
    {
        var model = SyntheticModels.Linear(2, 2, (k, c, y, x) => k == 0 ? (c == 1 && y == 1 && x == 0 ? 2f : 0f) : 1f,
            classes: 2, bias: [0.5f, -1f]);
        float[] pixels = [.. Enumerable.Range(0, 12).Select(i => (float)i)];
        using var input = OrtValue.CreateTensorValueFromMemory(pixels, [1, 3, 2, 2]);

        var scores = Run(model, input);

        // class 0: 2 * image[c=1, y=1, x=0] = 2 * 6, plus 0.5; class 1: sum 0..11 = 66, minus 1.
        Assert.Equal([12.5f, 65f], scores);
    }
}
