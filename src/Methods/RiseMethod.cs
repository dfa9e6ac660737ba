using System.Text.Json.Nodes;
using Lantern.Contracts.Messages;
using Lantern.Explainers;
using Lantern.Explainers.Imaging;
using Lantern.Explainers.Rise;

namespace Lantern.Methods;

/// <summary>RISE (Petsiuk et al. 2018): score-weighted average of random, shifted, upsampled low-resolution masks.</summary>
public sealed class RiseMethod(RiseOptions options, ulong seed, int imageWidth, int imageHeight) : IExplanationMethod
{
    private readonly RiseParameters _parameters = new(options.Samples, seed, options.Cells, options.Density);

    public string Name => "rise";
    public long PerturbationCount => options.Samples;

    public IPerturber CreatePerturber(RgbImage image, ImagePreprocessor preprocessor) => new RisePerturber(image, preprocessor, _parameters);

    public MethodOutput Assemble(ReadOnlySpan<float> baseline, ReadOnlySpan<float> scores, int[] targets) =>
        Output(RiseAssembler.Assemble(_parameters, imageWidth, imageHeight, scores, targets.Length), targets);

    public IScoreFold CreateFold(int targetCount) => new Fold(new RiseAccumulator(_parameters, imageWidth, imageHeight, targetCount));

    public JsonObject Parameters() => new()
    {
        ["samples"] = options.Samples,
        ["cells"] = options.Cells,
        ["density"] = options.Density,
        ["fill"] = "zero",
    };

    private sealed class Fold(RiseAccumulator accumulator) : IScoreFold
    {
        public long Folded => accumulator.Samples;
        public void Add(ReadOnlySpan<float> scores, ReadOnlySpan<float> itemMaps) => accumulator.Add(scores);
        public MethodOutput Finish(int[] targets) => Output(accumulator.Maps(), targets);
        public byte[] Save() => accumulator.Save();
        public void Load(ReadOnlySpan<byte> saved) => accumulator.Load(saved);
        public long HeldBytes => accumulator.HeldBytes;
    }

    private static MethodOutput Output(float[][] maps, int[] targets) =>
        new([.. targets.Select((target, t) => new OutputMap(target, 0, "", maps[t]))]);
}
