using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Lantern.Contracts.Messages;
using Lantern.Explainers.Gradients;
using Lantern.Gradients;

namespace Lantern.Methods.Gradients;

/// <summary>
/// Attribution from the gradient with respect to the input (Captum's Saliency, InputXGradient, IntegratedGradients,
/// NoiseTunnel(smoothgrad), GuidedBackprop). Per input pixel: saliency and guided backpropagation take the largest |gradient|
/// over the colour channels; gradient × input and integrated gradients sum gradient × factor over the channels, so the map
/// sums to integrated gradients' f(x) − f(x0) (completeness, reported per target).
/// </summary>
public sealed class InputGradientMethod : IGradientMethod
{
    private readonly GradientOptions _options;
    private readonly GradientGeometry _geometry;
    private readonly ulong _seed;
    private readonly string _reduction;  // the method each evaluation is folded as: saliency, gradient-x-input, ...
    private readonly PathIntegral? _path;
    private readonly int _samples;

    public InputGradientMethod(GradientOptions options, JobSpec spec)
    {
        _options = options;
        _geometry = new GradientGeometry(spec);
        _seed = spec.Seed;
        var smoothing = options.Method == "smoothgrad";
        _reduction = smoothing ? options.SmoothOver : options.Method;
        _samples = smoothing ? options.SmoothSamples : 1;
        if (_reduction == "integrated-gradients") _path = new PathIntegral(ParseRule(options.Integration), options.Steps);
        PerturbationCount = (long)_samples * (_path?.Steps ?? 1) + (_path is not null && _samples == 1 ? 2 : 0);
    }

    public string Name => _options.Method == "smoothgrad" ? $"smoothgrad ({_reduction})" : _options.Method;
    public long PerturbationCount { get; }
    public int MapLength => _geometry.InputPixels;

    // An input gradient is a model-input-sized map per target per evaluation; small items keep results small and spread.
    public int? MaxItemSize => 8;

    public GradientRequest Request(string inputName) => new()
    {
        GradientOf = [inputName],
        Relu = _reduction == "guided-backprop" ? ReluRule.Guided : ReluRule.Plain,
    };

    public IGradientEvaluation Prepare(GradientJobInputs inputs)
    {
        var baseline = _options.Baseline == "black" ? inputs.BlackImage : new float[inputs.Input.Length];
        var sigma = _samples > 1 ? InputPath.NoiseSigma(inputs.Input, _options.SmoothSigma) : 0f;
        return new Evaluation(new InputPath(inputs.Input, baseline, _path, _samples, sigma, _seed), _reduction, _geometry.ChannelsFirst);
    }

    public MethodOutput Assemble(ReadOnlySpan<float> baseline, ReadOnlySpan<float> scores, ReadOnlySpan<float> itemMaps, int[] targets)
    {
        var summed = new float[targets.Length][];
        for (var t = 0; t < targets.Length; t++) summed[t] = GradientGeometry.SumItems(itemMaps, targets.Length, t, MapLength);
        return Output(scores, summed, targets);
    }

    /// <summary>
    /// The sum of the items' maps, kept as the items arrive in order (the same float additions as SumItems), with every
    /// score: a SmoothGrad or integrated-gradients job of many items holds one input map per target, not one per item.
    /// </summary>
    public IScoreFold CreateFold(int targetCount) => new SummedItemMaps(this, targetCount);

    /// <param name="summed">Per target, the items' maps summed in item order.</param>
    private MethodOutput Output(ReadOnlySpan<float> scores, float[][] summed, int[] targets)
    {
        var maps = new List<OutputMap>();
        var perTarget = new JsonArray();
        for (var t = 0; t < targets.Length; t++)
        {
            var inputMap = summed[t];
            maps.Add(new OutputMap(targets[t], 0, "", _geometry.InputMapToImage(inputMap)));
            if (_path is null || _samples != 1) continue;
            // Completeness (Sundararajan et al.): Σ attributions ≈ f(x) − f(x0); the last two evaluations are x and x0.
            var sum = 0.0;
            foreach (var v in inputMap) sum += v;
            var input = scores[(int)(PerturbationCount - 2) * targets.Length + t];
            var atBaseline = scores[(int)(PerturbationCount - 1) * targets.Length + t];
            perTarget.Add(new JsonObject
            {
                ["class"] = targets[t],
                ["attribution_sum"] = sum,
                ["score_input"] = input,
                ["score_baseline"] = atBaseline,
                ["completeness_gap"] = sum - (input - atBaseline),
            });
        }
        return new MethodOutput(maps, perTarget.Count > 0 ? perTarget : null);
    }

    public JsonObject Parameters()
    {
        var parameters = new JsonObject { ["method"] = _options.Method, ["target"] = "logits when the model ends in softmax" };
        if (_options.Method == "smoothgrad")
        {
            parameters["smooth_over"] = _reduction;
            parameters["samples"] = _samples;
            parameters["sigma"] = _options.SmoothSigma;
            parameters["sigma_of"] = "the input tensor's value range";
        }
        if (_path is not null)
        {
            parameters["steps"] = _path.Steps;
            parameters["integration"] = _options.Integration;
            parameters["baseline"] = _options.Baseline;
        }
        parameters["reduction"] = _reduction is "saliency" or "guided-backprop"
            ? "max over channels of |gradient|"
            : _path is not null ? "sum over channels of (input - baseline) x integrated gradient" : "sum over channels of gradient x input";
        return parameters;
    }

    public static IntegrationRule ParseRule(string name) => name switch
    {
        "gausslegendre" => IntegrationRule.GaussLegendre,
        "riemann_left" => IntegrationRule.RiemannLeft,
        "riemann_right" => IntegrationRule.RiemannRight,
        "riemann_middle" => IntegrationRule.RiemannMiddle,
        "riemann_trapezoid" => IntegrationRule.RiemannTrapezoid,
        _ => throw new ArgumentException($"unknown integration '{name}'"),
    };

    private sealed class SummedItemMaps(InputGradientMethod method, int targetCount) : IScoreFold
    {
        private readonly float[] _scores = new float[method.PerturbationCount * targetCount];
        private readonly float[][] _sums = [.. Enumerable.Range(0, targetCount).Select(_ => new float[method.MapLength])];

        public long Folded { get; private set; }

        public void Add(ReadOnlySpan<float> scores, ReadOnlySpan<float> itemMaps)
        {
            if (scores.Length % targetCount != 0 || itemMaps.Length != targetCount * method.MapLength)
                throw new ArgumentException($"an item's result is whole rows of {targetCount} scores and {targetCount} maps of {method.MapLength}; " +
                                            $"got {scores.Length} scores and {itemMaps.Length} map values");
            scores.CopyTo(_scores.AsSpan((int)(Folded * targetCount)));
            Folded += scores.Length / targetCount;
            for (var t = 0; t < targetCount; t++)
            {
                var map = itemMaps.Slice(t * method.MapLength, method.MapLength);
                var sum = _sums[t];
                for (var i = 0; i < sum.Length; i++) sum[i] += map[i];
            }
        }

        public MethodOutput Finish(int[] targets) => Folded == method.PerturbationCount
            ? method.Output(_scores, [.. _sums.Select(sum => (float[])sum.Clone())], targets)
            : throw new InvalidOperationException($"the maps need all {method.PerturbationCount} evaluations; {Folded} are folded");

        /// <summary>The evaluations folded, then the scores and the sums, as little-endian floats.</summary>
        public byte[] Save()
        {
            var floats = _scores.Concat(_sums.SelectMany(sum => sum)).ToArray();
            var bytes = new byte[sizeof(long) + floats.Length * sizeof(float)];
            BitConverter.TryWriteBytes(bytes, Folded);
            MemoryMarshal.AsBytes(floats.AsSpan()).CopyTo(bytes.AsSpan(sizeof(long)));
            return bytes;
        }

        public void Load(ReadOnlySpan<byte> saved)
        {
            var floats = _scores.Length + targetCount * method.MapLength;
            if (saved.Length != sizeof(long) + floats * sizeof(float))
                throw new ArgumentException($"a saved input-gradient fold holds {sizeof(long) + floats * sizeof(float)} bytes, got {saved.Length}", nameof(saved));
            var values = MemoryMarshal.Cast<byte, float>(saved[sizeof(long)..]);
            Folded = BitConverter.ToInt64(saved);
            values[.._scores.Length].CopyTo(_scores);
            for (var t = 0; t < targetCount; t++) values.Slice(_scores.Length + t * method.MapLength, method.MapLength).CopyTo(_sums[t]);
        }

        public long HeldBytes => (_scores.LongLength + (long)targetCount * method.MapLength) * sizeof(float);
    }

    private sealed class Evaluation(InputPath path, string reduction, bool channelsFirst) : IGradientEvaluation
    {
        private float[] _factor = [];

        public void Write(long index, Span<float> tensor) => path.Write(index, tensor);

        public void Accumulate(in GradientRow row, Span<float> map)
        {
            var weight = path.Weight(row.Index);
            if (weight == 0) return;
            if (reduction is "saliency" or "guided-backprop")
            {
                ChannelReduction.AddMaxAbs(row.InputGradient, channelsFirst, weight, map);
                return;
            }
            if (_factor.Length != row.Input.Length) _factor = new float[row.Input.Length];
            path.WriteProductFactor(row.Index, _factor);
            ChannelReduction.AddProduct(row.InputGradient, _factor, channelsFirst, weight, map);
        }
    }
}
