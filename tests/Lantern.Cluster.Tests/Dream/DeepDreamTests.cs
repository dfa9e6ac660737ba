using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Messages;
using Lantern.Gradients;
using Lantern.Methods.Gradients;
using Lantern.Worker.Inference;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;

namespace Lantern.Cluster.Tests.Dream;

/// <summary>
/// Deep dream on the square-brightness model (class 0 = mean brightness inside a square, class 1 = outside), whose
/// input tensor is 0–255 pixels: the ascent must brighten the target's region and be reproducible from its seed.
/// </summary>
public sealed class DeepDreamTests(ITestOutputHelper output)
{
    private const int Size = 24;
    private static readonly (int X, int Y, int Width, int Height) Square = (6, 6, 8, 8);
    private static readonly long[] Shape = [3, Size, Size];

    private static DeepDreamResult Dream(int target, DeepDreamOptions options, float startValue = 128)
    {
        var built = GradientModelBuilder.Build(SyntheticModels.SquareBrightness(Size, Size, Square),
            new GradientRequest { GradientOf = [SyntheticModels.InputName] });
        var io = new GradientModelIo
        {
            Input = built.InputName, Seed = built.SeedName, SeedShape = { built.SeedShape }, Score = built.ScoreName,
            InputGradient = built.GradientOutputs[SyntheticModels.InputName], BatchIsFixed = built.BatchIsFixed,
        };
        using var options_ = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new GradientSession(built.Model, io, Shape, options_, maxBatch: 1);
        var length = 3 * Size * Size;
        var start = Enumerable.Repeat(startValue, length).ToArray();
        return DeepDreamSession.Run(session, seed => seed[target] = 1, start, new float[length],
            Enumerable.Repeat(255f, length).ToArray(), Shape, options);
    }

    private static bool InSquare(int i)
    {
        var (y, x) = Math.DivRem(i % (Size * Size), Size);
        return x >= Square.X && x < Square.X + Square.Width && y >= Square.Y && y < Square.Y + Square.Height;
    }

    [Fact]
    public void Dreaming_from_a_dark_image_raises_the_class_score_at_least_threefold()
    {
        var result = Dream(0, new DeepDreamOptions(StartFromNoise: false), startValue: 40);
        var final = result.Input.Where((_, i) => InSquare(i)).Average();
        output.WriteLine($"score {result.Scores[0]:F1} → last step {result.Scores[^1]:F1}, final square mean {final:F1}");
        Assert.Equal(3 * 20, result.Scores.Length);
        Assert.True(final >= 3 * result.Scores[0], $"square mean {final} is not 3× the start score {result.Scores[0]}");
    }

    [Fact]
    public void The_dream_of_a_square_brightness_class_is_brighter_inside_the_square_than_outside()
    {
        var result = Dream(0, new DeepDreamOptions(Seed: 7));
        var inside = result.Input.Where((_, i) => InSquare(i)).Average();
        var outside = result.Input.Where((_, i) => !InSquare(i)).Average();
        output.WriteLine($"inside {inside:F1}, outside {outside:F1}");
        Assert.True(inside > outside + 50, $"inside {inside} vs outside {outside}");
    }

    [Fact]
    public void The_same_seed_gives_a_bit_identical_dream_and_another_seed_does_not()
    {
        var first = Dream(0, new DeepDreamOptions(Seed: 3));
        var again = Dream(0, new DeepDreamOptions(Seed: 3));
        var other = Dream(0, new DeepDreamOptions(Seed: 4));
        Assert.Equal(first.Input, again.Input);
        Assert.Equal(first.Scores, again.Scores);
        Assert.NotEqual(first.Input, other.Input);
    }

    [Theory]
    [InlineData(0, 20)]
    [InlineData(3, 0)]
    public void Zero_octaves_or_iterations_are_rejected(int octaves, int iterations) =>
        Assert.Throws<ArgumentException>(() => DeepDream.Validate(new DeepDreamOptions(Octaves: octaves, Iterations: iterations)));

    [Fact]
    public void A_dream_maps_back_to_pixels_through_the_black_and_white_tensors()
    {
        // A 1×2 input, channels first: each value at its black → 0, at its white → 255, halfway → 128 (interleaved RGB out).
        float[] black = [-2, -2, -1, -1, 0, 0], white = [2, 2, 1, 1, 4, 4], dream = [-2, 0, 1, 0, 4, 2];
        Assert.Equal(new byte[] { 0, 255, 255, 128, 128, 128 }, DeepDream.ToPixels(dream, black, white, 3, 1, 2));
    }
}
