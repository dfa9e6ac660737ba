using System.Text.Json.Nodes;
using Lantern.Contracts.Messages;
using Lantern.Gradients;

namespace Lantern.Methods.Gradients;

/// <summary>
/// Deep dream as a job (see <see cref="DeepDream"/>): each target is one work item, the whole gradient ascent of that
/// target on one worker (the steps depend on each other, so they cannot be spread). A work item's result is the dream
/// as RGB values in 0..1 (model input height × width × 3), then the score curve: the target's score before each step and
/// of the final image. Targets are classes, or with <see cref="GradientOptions.DreamChannels"/> channels of the layer,
/// whose score is the channel's mean activation.
/// </summary>
public sealed class DeepDreamMethod(GradientOptions options, JobSpec spec) : IGradientMethod
{
    public const string MethodName = "deep-dream";
    public const string MapKind = "dream";

    private readonly GradientGeometry _geometry = new(spec);

    public DeepDreamOptions Options { get; } = new(
        Octaves: options.DreamOctaves, Iterations: options.DreamIterations, StartFromNoise: !options.DreamFromImage, Seed: spec.Seed);

    public string Name => MethodName;

    /// <summary>True for a dream of a layer's channels, whose targets are channel indices, not classes of the output.</summary>
    public static bool DreamsChannels(JobSpec spec) => spec.MethodCase == JobSpec.MethodOneofCase.Gradient && spec.Gradient.DreamChannels;

    /// <summary>How listings and pictures name a dreamt channel: "LAYER channel C".</summary>
    public static string ChannelLabel(JobSpec spec, int channel) => $"{spec.Gradient.Layer} channel {channel}";

    /// <summary>One per target; known at acceptance, since top-k asks for k targets.</summary>
    public long PerturbationCount => spec.Targets.Classes.Count > 0 ? spec.Targets.Classes.Count : Math.Max(1, spec.Targets.TopK);

    /// <summary>Gradient-model runs per target: every ascent step, then the final image's score.</summary>
    public int Steps => Options.Octaves * Options.Iterations + 1;

    public int? MaxItemSize => 1;
    public bool ItemServesOneTarget => true;
    public int MapLength => ImageLength + Steps;
    private int ImageLength => 3 * _geometry.InputPixels;

    public GradientRequest Request(string inputName) => new() { GradientOf = [inputName] };

    public IGradientEvaluation Prepare(GradientJobInputs inputs) => new Ascent(this, inputs.Input);

    /// <summary>The target's weights over the target tensor: a one-hot class, or a channel's 1/(H·W) mask (its mean).</summary>
    public void WriteSeed(int target, Span<float> seed)
    {
        if (!options.DreamChannels)
        {
            spec.WriteSeed(target, seed, spec.GradientIo.SeedShape);
            return;
        }
        var pixels = _geometry.LayerPixels;
        seed.Slice(target * pixels, pixels).Fill(1f / pixels);
    }

    /// <summary>
    /// Writes one work item's <see cref="MapLength"/> values into <paramref name="result"/>: the dream
    /// (<paramref name="input"/>, the model's input tensor, mapped to RGB through the tensors of a black and a white
    /// image), then the curve.
    /// </summary>
    public void WriteItemResult(ReadOnlySpan<float> input, ReadOnlySpan<float> black, ReadOnlySpan<float> white, ReadOnlySpan<float> curve,
        Span<float> result)
    {
        if (curve.Length != Steps) throw new ArgumentException($"a dream's curve has {Steps} scores, not {curve.Length}");
        DeepDream.ToUnitRgb(input, black, white, 3, _geometry.InputHeight, _geometry.InputWidth, result[..ImageLength]);
        curve.CopyTo(result.Slice(ImageLength, Steps));
    }

    /// <param name="itemMaps">One block per work item, item i being target slot i's.</param>
    public MethodOutput Assemble(ReadOnlySpan<float> baseline, ReadOnlySpan<float> scores, ReadOnlySpan<float> itemMaps, int[] targets)
    {
        var maps = new List<OutputMap>();
        var perTarget = new JsonArray();
        for (var slot = 0; slot < targets.Length; slot++)
        {
            var block = itemMaps.Slice(slot * MapLength, MapLength);
            maps.Add(new OutputMap(targets[slot], 0, MapKind, block[..ImageLength].ToArray(), _geometry.InputHeight, _geometry.InputWidth));
            var curve = block[ImageLength..];
            var entry = new JsonObject
            {
                [options.DreamChannels ? "channel" : "class"] = targets[slot],
                ["first_score"] = curve[0],
                ["final_score"] = curve[^1],
                ["rise"] = curve[^1] - curve[0],
                // The factor the ascent raised the score by; null when the start score is not positive (a logit often is not).
                ["gain"] = curve[0] > 0 ? curve[^1] / curve[0] : null,
                ["scores"] = new JsonArray([.. curve.ToArray().Select(v => (JsonNode)JsonValue.Create(v))]),
            };
            if (options.DreamChannels) entry["layer"] = options.Layer;
            perTarget.Add(entry);
        }
        return new MethodOutput(maps, perTarget);
    }

    public JsonObject Parameters() => new()
    {
        ["method"] = MethodName,
        ["octaves"] = Options.Octaves,
        ["iterations"] = Options.Iterations,
        ["octave_scale"] = Options.OctaveScale,
        ["step"] = Options.Step,
        ["jitter"] = Options.Jitter,
        ["l2"] = Options.L2,
        ["total_variation"] = Options.TotalVariation,
        ["blur_every"] = Options.BlurEvery,
        ["start"] = Options.StartFromNoise ? "noise" : "image",
        ["objective"] = options.DreamChannels ? $"mean activation of {options.Layer}'s channels" : "class score",
        ["input_shape"] = new JsonArray(3, _geometry.InputHeight, _geometry.InputWidth),
    };

    /// <summary>
    /// What a worker needs to dream a target: the start image (the job's preprocessed image) and the seed's writer. Its
    /// steps are not independent evaluations, so the worker's gradient path runs it whole (GradientJobs) rather than
    /// through Write/Accumulate.
    /// </summary>
    public sealed class Ascent(DeepDreamMethod method, float[] start) : IGradientEvaluation
    {
        public DeepDreamMethod Method => method;
        public float[] Start => start;

        public void Write(long index, Span<float> tensor) =>
            throw new InvalidOperationException("a dream's steps depend on each other: run it with DeepDreamSession");

        public void Accumulate(in GradientRow row, Span<float> map) =>
            throw new InvalidOperationException("a dream's steps depend on each other: run it with DeepDreamSession");
    }
}
