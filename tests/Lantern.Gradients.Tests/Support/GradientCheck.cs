using System.Text;

namespace Lantern.Gradients.Tests.Support;

/// <summary>How a finite-difference comparison is made.</summary>
public sealed record FdOptions
{
    /// <summary>
    /// Central-difference step along a direction whose entries lie in [-1, 1]. 1e-2 suits O(1) inputs in float32: the
    /// truncation error is h²/6·f''' ≈ 2e-5·f''' and the rounding error about 1e-7·Σ|s⊙t| / h ≈ 1e-5·Σ|s⊙t|, both well
    /// under 1e-3 of the directional derivative for the small smooth graphs here.
    /// </summary>
    public float H { get; init; } = 1e-2f;

    /// <summary>
    /// Allowed |FD − g·v| as a fraction of the derivative's natural scale |g·v| + ‖g‖₂·rms(v) (the second term keeps a
    /// direction nearly orthogonal to g from turning float noise into a huge relative error).
    /// </summary>
    public double Tolerance { get; init; } = 1e-3;

    /// <summary>Random directions per batch row (each supported on that row only), plus one over the whole batch.</summary>
    public int DirectionsPerRow { get; init; } = 2;

    /// <summary>Single coordinates per row: the one with the largest |g| and random ones.</summary>
    public int CoordinatesPerRow { get; init; } = 2;

    /// <summary>Makes directions smooth over the last two axes (for deep image models, where white noise is all high frequency).</summary>
    public Func<Random, long[], float[]>? Direction { get; init; }

    public int RandomSeed { get; init; } = 12345;

    /// <summary>
    /// Further steps (multiples of <see cref="H"/>) tried for a probe that misses at H; it passes if any agrees. For deep
    /// piecewise-linear nets, where a unit that happens to sit within ±h of its kink biases one step's difference at random,
    /// while a wrong backward rule is off at every step alike. Empty for the small graphs, whose inputs avoid kinks.
    /// </summary>
    public float[] FallbackSteps { get; init; } = [];

    /// <summary>
    /// Allowed |lantern_score − Σ seed ⊙ target| as a fraction of Σ|seed ⊙ target| per row: both are float32 sums of the
    /// same products, possibly in another order or with other kernel fusions.
    /// </summary>
    public double ScoreTolerance { get; init; } = 1e-5;
}

/// <summary>What one check measured, for the test log.</summary>
public sealed record CheckReport(double MaxRelativeError, string Log, float[] Gradient, float[] Score, GradientModel Model);

/// <summary>
/// Compares a <see cref="GradientModelBuilder"/> gradient with central differences of f(x) = Σ seed ⊙ target(x), where
/// target(x) comes from running the ORIGINAL model in ONNX Runtime. Batch rows get different random seeds, and each row
/// is probed with directions supported on it alone, so a gradient that mixes up rows fails.
/// </summary>
public static class GradientCheck
{
    /// <summary>Checks the score and the gradient with respect to the model input.</summary>
    /// <param name="built">The gradient model already built from <paramref name="model"/> with GradientOf = [input], if any.</param>
    public static CheckReport InputGradient(byte[] model, Tensor x, GradientRequest? request = null, FdOptions? options = null,
        float[]? seed = null, GradientModel? built = null)
    {
        options ??= new FdOptions();
        var inputName = ModelSurgery.InputName(model);
        request = (request ?? new GradientRequest()) with { GradientOf = [inputName] };
        var gm = built ?? GradientModelBuilder.Build(model, request);
        var (seedTensor, score, outputs) = RunGradientModel(gm, x, seed, options, gm.GradientOutputs[inputName]);
        var gradient = outputs[gm.GradientOutputs[inputName]];
        Assert.Equal(x.Shape, gradient.Shape);

        var withTarget = ModelSurgery.WithOutputs(model, gm.TargetTensor);
        using var original = new OrtModel(withTarget);
        Tensor Target(Tensor p) => original.Run(inputName, p, gm.TargetTensor);

        var log = new StringBuilder();
        CheckScore(seedTensor, Target(x), score, options, log);
        var err = CompareWithFiniteDifferences(Target, seedTensor, x, gradient, options, log);
        return new CheckReport(err, log.ToString(), gradient.Data, score.Data, gm);
    }

    /// <summary>
    /// Checks the gradient with respect to intermediate <paramref name="tensor"/> (requested also as a value): the target is
    /// re-evaluated by a copy of the model that takes that tensor as an input, the model input held at <paramref name="x"/>.
    /// </summary>
    public static CheckReport TensorGradient(byte[] model, Tensor x, string tensor, GradientRequest? request = null,
        FdOptions? options = null)
    {
        options ??= new FdOptions();
        var inputName = ModelSurgery.InputName(model);
        request = (request ?? new GradientRequest()) with { GradientOf = [tensor], ValuesOf = [tensor] };
        var gm = GradientModelBuilder.Build(model, request);
        var (seedTensor, score, outputs) = RunGradientModel(gm, x, null, options,
            gm.GradientOutputs[tensor], gm.ValueOutputs[tensor]);
        var gradient = outputs[gm.GradientOutputs[tensor]];
        var value = outputs[gm.ValueOutputs[tensor]];
        Assert.Equal(value.Shape, gradient.Shape);

        var cut = ModelSurgery.WithOutputs(ModelSurgery.WithTensorAsInput(model, tensor, value.Shape), gm.TargetTensor);
        using var original = new OrtModel(cut);
        Tensor Target(Tensor t) => original.Run(new Dictionary<string, Tensor> { [inputName] = x, [tensor] = t }, [gm.TargetTensor])[gm.TargetTensor];

        var log = new StringBuilder();
        CheckScore(seedTensor, Target(value), score, options, log);
        var err = CompareWithFiniteDifferences(Target, seedTensor, value, gradient, options, log);
        return new CheckReport(err, log.ToString(), gradient.Data, score.Data, gm);
    }

    /// <summary>Runs a gradient model on x with a random seed per row (or the given one); returns the seed, the score and the outputs.</summary>
    public static (Tensor Seed, Tensor Score, Dictionary<string, Tensor> Outputs) RunGradientModel(GradientModel gm, Tensor x,
        float[]? seed, FdOptions options, params string[] outputs)
    {
        var n = x.Shape[0];
        long[] seedShape = [n, .. gm.SeedShape];
        var count = seedShape.Aggregate(1L, (a, b) => a * b);
        var random = new Random(options.RandomSeed + 1);
        seed ??= Enumerable.Range(0, (int)count).Select(_ => (float)(2 * random.NextDouble() - 1)).ToArray();
        Assert.Equal(count, seed.Length);
        var seedTensor = new Tensor(seed, seedShape);
        using var session = new OrtModel(gm.Model);
        var results = session.Run(new Dictionary<string, Tensor> { [gm.InputName] = x, [gm.SeedName] = seedTensor },
            [gm.ScoreName, .. outputs]);
        var score = results[gm.ScoreName];
        Assert.Equal([n], score.Shape);
        return (seedTensor, score, results);
    }

    /// <summary>Σ seed ⊙ target per row, in double.</summary>
    public static double[] WeightedSums(Tensor seed, Tensor target)
    {
        Assert.Equal(seed.Count, target.Count);
        var n = (int)target.Shape[0];
        var row = target.Data.Length / n;
        var sums = new double[n];
        for (var i = 0; i < target.Data.Length; i++) sums[i / row] += (double)seed.Data[i] * target.Data[i];
        return sums;
    }

    private static double AbsoluteWeightedSum(Tensor seed, Tensor target)
    {
        var s = 0.0;
        for (var i = 0; i < target.Data.Length; i++) s += Math.Abs((double)seed.Data[i] * target.Data[i]);
        return s;
    }

    private static void CheckScore(Tensor seed, Tensor target, Tensor score, FdOptions options, StringBuilder log)
    {
        var expected = WeightedSums(seed, target);
        var scale = AbsoluteWeightedSum(seed, target) / expected.Length;
        for (var i = 0; i < expected.Length; i++)
        {
            var allowed = options.ScoreTolerance * scale + 1e-6;
            Assert.True(Math.Abs(score.Data[i] - expected[i]) <= allowed,
                $"row {i}: lantern_score {score.Data[i]} but Σ seed ⊙ target of the original model is {expected[i]}");
        }
        log.AppendLine($"score ok: {string.Join(", ", score.Data)}");
    }

    /// <summary>Directional and coordinate checks; returns the largest relative error seen, failing past the tolerance.</summary>
    public static double CompareWithFiniteDifferences(Func<Tensor, Tensor> target, Tensor seed, Tensor point, Tensor gradient,
        FdOptions options, StringBuilder log)
    {
        var random = new Random(options.RandomSeed);
        var n = (int)point.Shape[0];
        var rowLength = point.RowLength;
        var h = options.H;
        double F(Tensor p) => WeightedSums(seed, target(p)).Sum();
        // Float32 noise in one evaluation of f is about 1e-7 of Σ|s⊙t|; divided by 2h it is the FD noise floor.
        var noise = 2e-7 * (AbsoluteWeightedSum(seed, target(point)) + 1) / h;

        var worst = 0.0;
        var failures = new List<string>();
        // scale = |g·v| + rms(g over the probed rows)·‖v‖₂: for a random direction the second term is about 0.58‖g‖,
        // for a unit vector it is the row's rms gradient.
        void Probe(string what, float[] v, int supportStart, int supportLength, int rowsStart, int rowsLength)
        {
            double Difference(float step)
            {
                var plus = (float[])point.Data.Clone();
                var minus = (float[])point.Data.Clone();
                for (var i = supportStart; i < supportStart + supportLength; i++)
                {
                    plus[i] += step * v[i];
                    minus[i] -= step * v[i];
                }
                return (F(new Tensor(plus, point.Shape)) - F(new Tensor(minus, point.Shape))) / (2 * step);
            }
            double gv = 0, gg = 0, vv = 0;
            for (var i = supportStart; i < supportStart + supportLength; i++)
            {
                gv += (double)gradient.Data[i] * v[i];
                vv += (double)v[i] * v[i];
            }
            for (var i = rowsStart; i < rowsStart + rowsLength; i++) gg += (double)gradient.Data[i] * gradient.Data[i];
            var scale = Math.Abs(gv) + Math.Sqrt(gg / rowsLength) * Math.Sqrt(vv);
            var lines = new List<string>();
            foreach (var step in new[] { h }.Concat(options.FallbackSteps.Select(m => m * h)))
            {
                var fd = Difference(step);
                var stepNoise = noise * h / step;
                var diff = Math.Abs(fd - gv);
                var relative = scale > 0 ? diff / scale : (diff > stepNoise ? double.PositiveInfinity : 0);
                var ok = diff <= options.Tolerance * scale + stepNoise;
                var line = $"{what} (h={step:G3}): FD {fd:G7} vs g·v {gv:G7}, |diff| {diff:G3}, relative {relative:G3} (scale {scale:G3}, noise floor {stepNoise:G3})";
                log.AppendLine(line);
                lines.Add(line);
                if (ok)
                {
                    worst = Math.Max(worst, relative);
                    return;
                }
            }
            failures.AddRange(lines);
        }

        for (var row = 0; row < n; row++)
        {
            for (var d = 0; d < options.DirectionsPerRow; d++)
            {
                var v = Direction(random, point, options);
                Probe($"row {row} direction {d}", v, row * rowLength, rowLength, row * rowLength, rowLength);
            }
            var byMagnitude = Enumerable.Range(row * rowLength, rowLength).MaxBy(i => Math.Abs(gradient.Data[i]));
            var coordinates = new List<int> { byMagnitude };
            while (coordinates.Count < options.CoordinatesPerRow) coordinates.Add(row * rowLength + random.Next(rowLength));
            foreach (var c in coordinates.Take(options.CoordinatesPerRow))
            {
                var e = new float[point.Data.Length];
                e[c] = 1;
                Probe($"row {row} coordinate {c - row * rowLength}", e, c, 1, row * rowLength, rowLength);
            }
        }
        Probe("whole batch", Direction(random, point, options), 0, point.Data.Length, 0, point.Data.Length);

        Assert.True(failures.Count == 0,
            $"gradient disagrees with central differences (h={h}, tolerance {options.Tolerance}):\n{string.Join("\n", failures)}\n--- all probes ---\n{log}");
        return worst;
    }

    private static float[] Direction(Random random, Tensor point, FdOptions options)
    {
        if (options.Direction is { } make)
        {
            var v = make(random, point.Shape);
            Assert.Equal(point.Data.Length, v.Length);
            return v;
        }
        return Enumerable.Range(0, point.Data.Length).Select(_ => (float)(2 * random.NextDouble() - 1)).ToArray();
    }
}
