namespace Lantern.Methods.Gradients;

/// <summary>What a deep dream's ascent does; the CLI's defaults (see README's method table).</summary>
/// <param name="Octaves">Coarse-to-fine levels; level o (0 = coarsest) moves the image only at 1/OctaveScale^(Octaves-1-o) resolution.</param>
/// <param name="Iterations">Gradient steps per octave.</param>
/// <param name="Step">Step per iteration as a fraction of each input value's range (black to white), along the gradient normalised by its mean magnitude.</param>
/// <param name="Jitter">Random shift (model-input pixels, each axis) applied before each evaluation and undone on its gradient.</param>
/// <param name="L2">Pull of each value towards mid-grey, per iteration, as a fraction of its distance.</param>
/// <param name="TotalVariation">Weight of the total-variation penalty's (sign) gradient, relative to the normalised score gradient.</param>
/// <param name="BlurEvery">Every this many iterations the image is blurred with a 3×3 binomial kernel; 0 never.</param>
/// <param name="StartFromNoise">Start from seeded uniform noise around mid-grey (MATLAB's default) rather than the input image.</param>
public sealed record DeepDreamOptions(
    int Octaves = 3,
    int Iterations = 20,
    float OctaveScale = 1.4f,
    float Step = 0.02f,
    int Jitter = 4,
    float L2 = 0.002f,
    float TotalVariation = 0.05f,
    int BlurEvery = 4,
    bool StartFromNoise = true,
    ulong Seed = 0);

/// <summary>One target's dream: the final input tensor and the score before each step (Octaves × Iterations values).</summary>
public sealed record DeepDreamResult(float[] Input, float[] Scores);

/// <summary>
/// Activation maximisation by gradient ascent on the model input (Mordvintsev et al. 2015, "Inceptionism"; MATLAB
/// deepDreamImage; keras-vis visualize_activation). Works in the model's input tensor [C,H,W]: every value is kept between
/// the tensor values of a black and a white image, so the result maps back to pixels affinely.
/// Octaves: a model input has a fixed size, so instead of rescaling the image, coarse octaves restrict each step to a
/// low-resolution version of the gradient (box-averaged down, bilinearly up); the last octave moves single pixels.
/// Deterministic for a given seed and gradient function: the only randomness is the seeded noise and jitter.
/// </summary>
public static class DeepDream
{
    /// <param name="gradient">Writes d score / d input for the given input into its second argument and returns the score.</param>
    /// <param name="start">The preprocessed input image (used when not starting from noise).</param>
    /// <param name="black">The tensor of an all-black image; <paramref name="white"/> of an all-white one.</param>
    public static DeepDreamResult Run(Func<float[], float[], float> gradient, ReadOnlySpan<float> start,
        ReadOnlySpan<float> black, ReadOnlySpan<float> white, int channels, int height, int width, DeepDreamOptions options,
        CancellationToken cancellationToken = default)
    {
        Validate(options);
        var length = channels * height * width;
        if (start.Length != length || black.Length != length || white.Length != length)
            throw new ArgumentException($"tensors must hold {channels}x{height}x{width} values");
        var random = new Random(unchecked((int)(options.Seed ^ (options.Seed >> 32))));
        var low = new float[length];
        var range = new float[length];
        for (var i = 0; i < length; i++)
        {
            low[i] = Math.Min(black[i], white[i]);
            range[i] = Math.Abs(white[i] - black[i]);
        }
        var x = new float[length];
        for (var i = 0; i < length; i++)
            x[i] = options.StartFromNoise ? low[i] + range[i] * (0.4f + 0.2f * random.NextSingle()) : start[i];

        var shifted = new float[length];
        var shiftedGradient = new float[length];
        var step = new float[length];
        var scores = new float[options.Octaves * options.Iterations];
        for (var octave = 0; octave < options.Octaves; octave++)
        {
            var factor = MathF.Pow(options.OctaveScale, options.Octaves - 1 - octave);
            var (coarseH, coarseW) = (Math.Max(1, (int)MathF.Round(height / factor)), Math.Max(1, (int)MathF.Round(width / factor)));
            for (var iteration = 0; iteration < options.Iterations; iteration++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var (dy, dx) = (random.Next(-options.Jitter, options.Jitter + 1), random.Next(-options.Jitter, options.Jitter + 1));
                Roll(x, shifted, channels, height, width, dy, dx);
                scores[octave * options.Iterations + iteration] = gradient(shifted, shiftedGradient);
                Roll(shiftedGradient, step, channels, height, width, -dy, -dx);
                if (coarseH != height || coarseW != width) LowPass(step, channels, height, width, coarseH, coarseW);

                // Scale-free ascent: the gradient normalised by its mean magnitude (Mordvintsev et al.), in range units.
                var mean = 0.0;
                for (var i = 0; i < length; i++) mean += Math.Abs(step[i] * range[i]);
                var norm = (float)(mean / length) + 1e-12f;
                AddTotalVariationDescent(x, step, range, channels, height, width, options.TotalVariation * norm);
                for (var i = 0; i < length; i++)
                {
                    var mid = low[i] + 0.5f * range[i];
                    var value = x[i] + options.Step * range[i] * range[i] * step[i] / norm;
                    value -= options.L2 * (value - mid);
                    x[i] = Math.Clamp(value, low[i], low[i] + range[i]);
                }
                if (options.BlurEvery > 0 && (iteration + 1) % options.BlurEvery == 0) Blur(x, shifted, channels, height, width);
            }
        }
        return new DeepDreamResult(x, scores);
    }

    public static void Validate(DeepDreamOptions options)
    {
        if (options.Octaves is < 1 or > 8) throw new ArgumentException($"octaves must be 1..8, not {options.Octaves}");
        if (options.Iterations is < 1 or > 10_000) throw new ArgumentException($"iterations must be 1..10000, not {options.Iterations}");
        if (!(options.OctaveScale >= 1 && options.OctaveScale <= 4)) throw new ArgumentException($"octave scale must be 1..4, not {options.OctaveScale}");
        if (!(options.Step > 0 && options.Step <= 1)) throw new ArgumentException($"step must be in (0,1], not {options.Step}");
        if (options.Jitter is < 0 or > 64) throw new ArgumentException($"jitter must be 0..64 pixels, not {options.Jitter}");
        if (!(options.L2 >= 0 && options.L2 < 1)) throw new ArgumentException($"l2 must be in [0,1), not {options.L2}");
        if (!(options.TotalVariation >= 0 && options.TotalVariation <= 10)) throw new ArgumentException($"total variation must be 0..10, not {options.TotalVariation}");
        if (options.BlurEvery < 0) throw new ArgumentException($"blur-every must be ≥ 0, not {options.BlurEvery}");
    }

    /// <summary>Maps a dream tensor to 8-bit RGB values (row-major, interleaved) through the black/white tensors.</summary>
    public static byte[] ToPixels(ReadOnlySpan<float> input, ReadOnlySpan<float> black, ReadOnlySpan<float> white, int channels, int height, int width)
    {
        var unit = new float[height * width * 3];
        ToUnitRgb(input, black, white, channels, height, width, unit);
        var pixels = new byte[unit.Length];
        for (var i = 0; i < unit.Length; i++) pixels[i] = (byte)Math.Clamp(MathF.Round(unit[i] * 255), 0, 255);
        return pixels;
    }

    /// <summary>
    /// Maps a dream tensor [C,H,W] to RGB values in 0..1 (row-major, interleaved) through the black/white tensors: a value
    /// at its black image's value is 0, at its white's 1. A one-channel input is repeated into grey.
    /// </summary>
    public static void ToUnitRgb(ReadOnlySpan<float> input, ReadOnlySpan<float> black, ReadOnlySpan<float> white, int channels, int height,
        int width, Span<float> rgb)
    {
        for (var p = 0; p < height * width; p++)
            for (var c = 0; c < 3; c++)
            {
                var i = Math.Min(c, channels - 1) * height * width + p;
                var span = white[i] - black[i];
                rgb[p * 3 + c] = span == 0 ? 0 : Math.Clamp((input[i] - black[i]) / span, 0, 1);
            }
    }

    /// <summary>destination = source shifted by (dy, dx), wrapping around.</summary>
    private static void Roll(float[] source, float[] destination, int channels, int height, int width, int dy, int dx)
    {
        for (var c = 0; c < channels; c++)
            for (var y = 0; y < height; y++)
            {
                var sy = ((y - dy) % height + height) % height;
                for (var xIndex = 0; xIndex < width; xIndex++)
                {
                    var sx = ((xIndex - dx) % width + width) % width;
                    destination[(c * height + y) * width + xIndex] = source[(c * height + sy) * width + sx];
                }
            }
    }

    /// <summary>Replaces each channel by its box average on a coarseH × coarseW grid, bilinearly upsampled back.</summary>
    private static void LowPass(float[] values, int channels, int height, int width, int coarseH, int coarseW)
    {
        var coarse = new float[coarseH * coarseW];
        var counts = new int[coarseH * coarseW];
        for (var c = 0; c < channels; c++)
        {
            Array.Clear(coarse);
            Array.Clear(counts);
            var plane = values.AsSpan(c * height * width, height * width);
            for (var y = 0; y < height; y++)
                for (var x = 0; x < width; x++)
                {
                    var cell = y * coarseH / height * coarseW + x * coarseW / width;
                    coarse[cell] += plane[y * width + x];
                    counts[cell]++;
                }
            for (var i = 0; i < coarse.Length; i++) coarse[i] /= Math.Max(1, counts[i]);
            for (var y = 0; y < height; y++)
            {
                var fy = Math.Clamp((y + 0.5f) * coarseH / height - 0.5f, 0, coarseH - 1);
                var (y0, ty) = ((int)fy, fy - (int)fy);
                var y1 = Math.Min(y0 + 1, coarseH - 1);
                for (var x = 0; x < width; x++)
                {
                    var fx = Math.Clamp((x + 0.5f) * coarseW / width - 0.5f, 0, coarseW - 1);
                    var (x0, tx) = ((int)fx, fx - (int)fx);
                    var x1 = Math.Min(x0 + 1, coarseW - 1);
                    var top = coarse[y0 * coarseW + x0] * (1 - tx) + coarse[y0 * coarseW + x1] * tx;
                    var bottom = coarse[y1 * coarseW + x0] * (1 - tx) + coarse[y1 * coarseW + x1] * tx;
                    plane[y * width + x] = top * (1 - ty) + bottom * ty;
                }
            }
        }
    }

    /// <summary>Adds −weight · sign-gradient of the anisotropic total variation (in range units) to the ascent direction.</summary>
    private static void AddTotalVariationDescent(float[] x, float[] direction, float[] range, int channels, int height, int width, float weight)
    {
        if (weight <= 0) return;
        for (var c = 0; c < channels; c++)
            for (var y = 0; y < height; y++)
                for (var xi = 0; xi < width; xi++)
                {
                    var i = (c * height + y) * width + xi;
                    if (range[i] == 0) continue;
                    var pull = 0f;
                    if (xi > 0) pull += MathF.Sign(x[i - 1] - x[i]);
                    if (xi < width - 1) pull += MathF.Sign(x[i + 1] - x[i]);
                    if (y > 0) pull += MathF.Sign(x[i - width] - x[i]);
                    if (y < height - 1) pull += MathF.Sign(x[i + width] - x[i]);
                    direction[i] += weight * pull / range[i];
                }
    }

    /// <summary>A 3×3 binomial blur (1-2-1 each axis), edges clamped; scratch holds the horizontal pass.</summary>
    private static void Blur(float[] x, float[] scratch, int channels, int height, int width)
    {
        for (var c = 0; c < channels; c++)
        {
            var offset = c * height * width;
            for (var y = 0; y < height; y++)
                for (var xi = 0; xi < width; xi++)
                {
                    var row = offset + y * width;
                    scratch[row + xi] = 0.25f * x[row + Math.Max(xi - 1, 0)] + 0.5f * x[row + xi] + 0.25f * x[row + Math.Min(xi + 1, width - 1)];
                }
            for (var y = 0; y < height; y++)
                for (var xi = 0; xi < width; xi++)
                    x[offset + y * width + xi] = 0.25f * scratch[offset + Math.Max(y - 1, 0) * width + xi]
                        + 0.5f * scratch[offset + y * width + xi] + 0.25f * scratch[offset + Math.Min(y + 1, height - 1) * width + xi];
        }
    }
}
