using System.Collections.Concurrent;
using System.Text.Json;
using Lantern.Contracts.Messages;
using Lantern.Gradients;
using Lantern.Methods;
using Lantern.Methods.Gradients;
using Lantern.Models;
using Lantern.Storage;

namespace Lantern.Gateway.Mapping;

/// <summary>
/// Gradient methods run a gradient model: built here once per (model, request), stored content-addressed like any
/// artifact, fetched by workers by hash. Building checks everything a job could trip on later (an op without a backward
/// rule, an unknown layer, a layer without spatial size) so those are answered at submit, before any work is scheduled.
/// </summary>
public sealed class GradientModels(IArtifactStore artifacts, IMemoStore? memo = null)
{
    // The build is deterministic, so this only saves time: a rebuild stores the same bytes under the same hash. Each
    // result is kept in memory and, where the node has a database, in its memo table under a hash of the build's
    // inputs, so a later job and a later process (every `lantern explain` starts a new one) find it without probing
    // shapes or building again.
    private readonly ConcurrentDictionary<string, (string Sha256, GradientModel Model)> _built = new();
    private readonly ConcurrentDictionary<string, IReadOnlyList<LayerInfo>> _layers = new();

    /// <summary>Bump when the builder's output for the same inputs changes, so old memo entries are not used.</summary>
    private const string BuilderVersion = "1";

    /// <summary>Resolves the layer, builds (or reuses) the gradient model and writes what workers need into the spec.</summary>
    public async Task PrepareAsync(JobSpec spec, OnnxModelInfo model, CancellationToken cancellationToken)
    {
        var options = spec.Gradient;
        var differentiated = options.TwinModelSha256.Length > 0 ? options.TwinModelSha256 : spec.ModelSha256;
        var bytes = await artifacts.GetAsync(differentiated, cancellationToken);
        if (bytes is null && options.TwinModelSha256.Length > 0)
            GrpcErrors.NotFound($"twin model {options.TwinModelSha256} was never uploaded; upload it with UploadModel first");
        if (bytes is null) throw new ArtifactUnavailableException($"model {spec.ModelSha256} is not in the artifact store");
        var inputName = options.TwinModelSha256.Length > 0 ? Twin(bytes, model).InputName : model.InputName;
        long[] inputShape = model.ChannelsFirst
            ? [3, spec.Preprocessing.Height, spec.Preprocessing.Width]
            : [spec.Preprocessing.Height, spec.Preprocessing.Width, 3];
        var kind = GradientMethodNames.Parse(options.Method);
        // A deep dream of channels names its layer too (it is the target tensor): resolved and checked the same way.
        if (GradientMethodNames.UsesLayer(kind) || kind == GradientMethodKind.DeepDream && options.DreamChannels)
        {
            var layer = await ResolveLayerAsync(differentiated, bytes, inputShape, options.Layer, cancellationToken);
            options.Layer = layer.Name;
            spec.LayerShape.Add(layer.Shape);
            if (kind == GradientMethodKind.Cam && CamHead.Find(bytes, layer.Name) is null)
                GrpcErrors.InvalidArgument(
                    $"CAM needs the layer to feed a global-average-pool + linear classifier head, and '{layer.Name}' does not; " +
                    "use gradcam, which works for any layer");
        }
        spec.InputShape.Add(inputShape);

        var method = (IGradientMethod)MethodCatalog.For(spec);
        var request = method.Request(inputName) with
        {
            InputShape = inputShape, TargetTensor = options.TargetTensor.Length > 0 ? options.TargetTensor : null,
        };
        var key = $"{differentiated}|{request.TargetTensor}|{string.Join(',', request.GradientOf)}|{string.Join(',', request.ValuesOf)}|{request.Relu}|{string.Join(',', inputShape)}";
        if (!_built.TryGetValue(key, out var built))
        {
            var memoKey = MemoKey("gradient-model", key);
            if (await RecallAsync<StoredGradientModel>(memoKey, cancellationToken) is { } stored
                && await artifacts.ExistsAsync(stored.Sha256, cancellationToken))
            {
                built = (stored.Sha256, stored.ToModel());
            }
            else
            {
                var gradientModel = Build(bytes, request);
                var put = await artifacts.PutAsync(gradientModel.Model, "gradient-model", cancellationToken);
                built = (put.Sha256, gradientModel);
                await RememberAsync(memoKey, StoredGradientModel.From(put.Sha256, gradientModel), cancellationToken);
            }
            _built[key] = built;
        }

        var io = built.Model;
        spec.GradientModelSha256 = built.Sha256;
        spec.GradientIo = new GradientModelIo
        {
            Input = io.InputName,
            Seed = io.SeedName,
            SeedShape = { io.SeedShape },
            Score = io.ScoreName,
            InputGradient = io.GradientOutputs.GetValueOrDefault(inputName, ""),
            LayerValue = options.Layer.Length > 0 ? io.ValueOutputs.GetValueOrDefault(options.Layer, "") : "",
            LayerGradient = options.Layer.Length > 0 ? io.GradientOutputs.GetValueOrDefault(options.Layer, "") : "",
            BatchIsFixed = io.BatchIsFixed,
            TargetTensor = io.TargetTensor,
            Notes = { io.Notes },
        };
        var seedLength = io.SeedShape.Aggregate(1L, (a, b) => a * b);
        foreach (var target in spec.Targets.Classes)
        {
            if (target >= seedLength)
                GrpcErrors.InvalidArgument($"class {target} is outside the model's target tensor '{io.TargetTensor}' of {seedLength} values");
        }
    }

    /// <summary>What `lantern inspect` shows: the layers a user can name, and which one Grad-CAM picks.</summary>
    public IReadOnlyList<LayerInfo> Layers(string modelSha256, byte[] bytes, long[] inputShape) =>
        _layers.GetOrAdd($"{modelSha256}|{string.Join(',', inputShape)}", _ => Catalog(bytes, inputShape));

    /// <summary><see cref="Layers"/>, found again in the memo table when another process probed the shapes already.</summary>
    private async Task<IReadOnlyList<LayerInfo>> LayersAsync(string modelSha256, byte[] bytes, long[] inputShape, CancellationToken cancellationToken)
    {
        var key = $"{modelSha256}|{string.Join(',', inputShape)}";
        if (_layers.TryGetValue(key, out var known)) return known;
        var memoKey = MemoKey("layers", key);
        if (await RecallAsync<LayerInfo[]>(memoKey, cancellationToken) is { } stored) return _layers[key] = stored;
        var layers = Layers(modelSha256, bytes, inputShape);
        await RememberAsync(memoKey, layers.ToArray(), cancellationToken);
        return layers;
    }

    private static string MemoKey(string kind, string inputs) => $"{kind}/v{BuilderVersion}/{ContentHash.Sha256(System.Text.Encoding.UTF8.GetBytes(inputs))}";

    private async Task<T?> RecallAsync<T>(string key, CancellationToken cancellationToken) where T : class
    {
        if (memo is null || await memo.GetAsync(key, cancellationToken) is not { } json) return null;
        try
        {
            return JsonSerializer.Deserialize<T>(json);
        }
        catch (JsonException)
        {
            return null; // unreadable: build again (and the first value stays; the build is the same)
        }
    }

    private async Task RememberAsync<T>(string key, T value, CancellationToken cancellationToken)
    {
        if (memo is not null) await memo.PutAsync(key, JsonSerializer.Serialize(value), cancellationToken);
    }

    /// <summary>A built gradient model's description without its bytes (those are the artifact <see cref="Sha256"/>).</summary>
    private sealed record StoredGradientModel(
        string Sha256, string InputName, string SeedName, long[] SeedShape, string TargetTensor, string ScoreName,
        Dictionary<string, string> GradientOutputs, Dictionary<string, string> ValueOutputs, Dictionary<string, long[]> Shapes,
        bool BatchIsFixed, string[] Notes)
    {
        public static StoredGradientModel From(string sha256, GradientModel m) => new(
            sha256, m.InputName, m.SeedName, m.SeedShape, m.TargetTensor, m.ScoreName, new(m.GradientOutputs), new(m.ValueOutputs),
            new(m.Shapes), m.BatchIsFixed, [.. m.Notes]);

        public GradientModel ToModel() => new(
            [], InputName, SeedName, SeedShape, TargetTensor, ScoreName, GradientOutputs, ValueOutputs, Shapes, BatchIsFixed, Notes);
    }

    private async Task<LayerInfo> ResolveLayerAsync(string modelSha256, byte[] bytes, long[] inputShape, string requested, CancellationToken cancellationToken)
    {
        var layers = await LayersAsync(modelSha256, bytes, inputShape, cancellationToken);
        if (requested.Length == 0)
        {
            return layers.FirstOrDefault(l => l.IsDefaultCamLayer)
                   ?? GrpcErrors.InvalidArgument<LayerInfo>("the model has no 4-D activation with spatial size above 1 to explain; " +
                                                           "use an input method such as saliency or integrated-gradients");
        }
        var layer = layers.FirstOrDefault(l => l.Name == requested);
        if (layer is null)
            GrpcErrors.InvalidArgument(
                $"layer '{requested}' is not a 4-D activation of the model; `lantern inspect MODEL` lists the layers " +
                $"(e.g. {string.Join(", ", layers.TakeLast(3).Select(l => l.Name))})");
        if (layer!.Shape[1] * layer.Shape[2] < 2)
            GrpcErrors.InvalidArgument($"layer '{requested}' has no spatial extent ({string.Join('x', layer.Shape)}); pick a layer before global pooling");
        return layer;
    }

    private static IReadOnlyList<LayerInfo> Catalog(byte[] bytes, long[] inputShape)
    {
        try
        {
            return LayerCatalog.List(bytes, inputShape);
        }
        catch (UnsupportedModelException e)
        {
            return GrpcErrors.InvalidArgument<IReadOnlyList<LayerInfo>>(e.Message);
        }
    }

    private static GradientModel Build(byte[] bytes, GradientRequest request)
    {
        try
        {
            return GradientModelBuilder.Build(bytes, request);
        }
        catch (UnsupportedModelException e)
        {
            return GrpcErrors.InvalidArgument<GradientModel>(
                $"{e.Message} (a quantized model can be explained through its float32 twin: upload it and set twin_model_sha256, or --twin)");
        }
    }

    /// <summary>The twin must take the same image input as the job's model; its output may differ only in type.</summary>
    private static OnnxModelInfo Twin(byte[] bytes, OnnxModelInfo model)
    {
        OnnxModelInfo twin;
        try
        {
            twin = OnnxModelInspector.Inspect(bytes);
        }
        catch (InvalidModelException e)
        {
            return GrpcErrors.InvalidArgument<OnnxModelInfo>($"the twin model: {e.Message}");
        }
        if (twin.ChannelsFirst != model.ChannelsFirst || twin.InputHeight != model.InputHeight || twin.InputWidth != model.InputWidth
            || twin.ClassCount != model.ClassCount)
            GrpcErrors.InvalidArgument(
                $"the twin model's input [{string.Join(',', twin.InputShape)}] and {twin.ClassCount} outputs do not match the model's " +
                $"[{string.Join(',', model.InputShape)}] and {model.ClassCount}");
        return twin;
    }
}
