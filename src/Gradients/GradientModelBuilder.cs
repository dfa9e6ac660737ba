using Google.Protobuf;
using Lantern.Gradients.Graph;
using Lantern.Gradients.Rules;
using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace Lantern.Gradients;

/// <summary>
/// Builds, from an inference model, an ONNX model that runs the forward graph and its backward pass as ordinary ONNX
/// nodes, so ONNX Runtime computes score and gradients in one batched call on any execution provider.
/// The target score is Σ seed ⊙ target (see <see cref="GradientModel"/>); only activation gradients are built, never
/// weight gradients. The same inputs always give the same bytes (the model is stored content-addressed).
/// </summary>
public static class GradientModelBuilder
{
    public const string SeedName = "lantern_seed";
    public const string ScoreName = "lantern_score";
    public const string GradientPrefix = "lantern_grad:";
    public const string ValuePrefix = "lantern_value:";
    private const string BatchSymbol = "batch";

    private static readonly IReadOnlyDictionary<string, IBackwardRule> Rules = BackwardRules.Create();

    /// <summary>The op types that have a backward rule.</summary>
    public static IReadOnlyCollection<string> SupportedOps { get; } = Rules.Keys.Order(StringComparer.Ordinal).ToArray();

    public static GradientModel Build(byte[] onnxModel, GradientRequest request)
    {
        ArgumentNullException.ThrowIfNull(onnxModel);
        ArgumentNullException.ThrowIfNull(request);
        var prepared = PreparedModel.From(onnxModel);
        var graph = prepared.Model.Graph;
        var index = new GraphIndex(graph);
        foreach (var name in request.GradientOf.Concat(request.ValuesOf).Concat(request.TargetTensor is { } t ? [t] : []))
            if (!index.Exists(name))
                throw new UnsupportedModelException(
                    $"the model has no tensor named '{name}'; run `lantern inspect MODEL` to list the input and the layers you can name");

        var weights = graph.Initializer.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        if (request.GradientOf.FirstOrDefault(weights.Contains) is { } weight)
            throw new UnsupportedModelException($"'{weight}' is a weight of the model; Lantern computes gradients of the input and of activations only");

        var target = request.TargetTensor
                     ?? (request.TargetBeforeSoftmax && prepared.SoftmaxLogits is { } logits ? logits : prepared.FirstOutput);
        if (weights.Contains(target))
            throw new UnsupportedModelException($"'{target}' is a weight of the model; the target must be an output or an activation");
        var path = GradientPath.Find(graph, request.GradientOf, target);
        var missing = path.Nodes.Where(n => !Rules.ContainsKey(n.OpType) || n.Domain is not ("" or "ai.onnx")).ToList();
        if (missing.Count > 0)
        {
            var first = missing[0];
            throw new UnsupportedModelException(
                $"the model cannot be differentiated: op '{first.OpType}' (node '{first.Describe()}') has no backward rule" +
                (missing.Count > 1 ? $" (nor do {string.Join(", ", missing.Skip(1).Select(n => n.OpType).Distinct())})" : "") +
                $"; supported: {string.Join(", ", SupportedOps)}");
        }

        var batchIsSymbolic = prepared.InputDims[0] is null;
        if (prepared.InputDims[0] is > 1)
            throw new UnsupportedModelException($"the model's input has a fixed batch of {prepared.InputDims[0]}; Lantern needs a batch of 1 or a symbolic one");
        var probeShape = ProbeInputShape(prepared, request.InputShape);
        var shapes = ShapeProbe.Run(prepared, probeShape);

        var notes = prepared.Notes.ToList();
        var built = Emit(prepared, request, target, path, shapes, probeShape, symbolicBatch: true);
        var batchIsFixed = false;
        if (!AcceptsAnyBatch(built, prepared.InputName, probeShape, shapes[target]))
        {
            built = Emit(prepared, request, target, path, shapes, probeShape, symbolicBatch: false);
            batchIsFixed = true;
            notes.Add(batchIsSymbolic
                ? "the graph does not run at batch sizes other than 1 (a reshape to a fixed shape); the gradient model takes one example per call"
                : "the model was exported for a batch of 1 and its graph hard-codes it; the gradient model takes one example per call");
        }
        else if (!batchIsSymbolic)
        {
            notes.Add("the model was exported for a batch of 1; the gradient model takes any batch");
        }

        var perExample = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var name in request.GradientOf.Concat(request.ValuesOf).Append(target))
            perExample[name] = shapes[name][1..];
        return new GradientModel(
            built,
            prepared.InputName,
            SeedName,
            shapes[target][1..],
            target,
            ScoreName,
            request.GradientOf.Distinct().ToDictionary(n => n, n => GradientPrefix + n, StringComparer.Ordinal),
            request.ValuesOf.Distinct().ToDictionary(n => n, n => ValuePrefix + n, StringComparer.Ordinal),
            perExample,
            batchIsFixed,
            notes);
    }

    internal static long[] ProbeInputShape(PreparedModel prepared, long[]? requested)
    {
        var dims = prepared.InputDims;
        if (requested is not null)
        {
            if (requested.Length != dims.Length - 1)
                throw new UnsupportedModelException($"InputShape [{string.Join(",", requested)}] has {requested.Length} dims; the model's input '{prepared.InputName}' has {dims.Length - 1} besides the batch");
            for (var i = 0; i < requested.Length; i++)
                if (dims[i + 1] is { } fixedDim && fixedDim != requested[i])
                    throw new UnsupportedModelException($"InputShape [{string.Join(",", requested)}] disagrees with the model's input shape at dim {i + 1} ({fixedDim})");
            return [1, .. requested];
        }
        if (dims.Skip(1).Any(d => d is null))
            throw new UnsupportedModelException($"the model's input '{prepared.InputName}' has symbolic dims besides the batch; give the input shape (e.g. [3,224,224])");
        return [1, .. dims.Skip(1).Select(d => d!.Value)];
    }

    private static byte[] Emit(PreparedModel prepared, GradientRequest request, string target, GradientPath path,
        IReadOnlyDictionary<string, long[]> shapes, long[] probeShape, bool symbolicBatch)
    {
        var model = prepared.Model.Clone();
        var graph = model.Graph;
        var context = new BackwardContext(new GraphIndex(graph), shapes, path.Tensors, request.Relu);
        var batch = symbolicBatch ? null : (long?)1;
        var targetShape = shapes[target];

        ShapeProbe.SetInputShape(graph, prepared.InputName, [batch, .. probeShape[1..].Select(d => (long?)d)], BatchSymbol);
        graph.Input.Add(FloatValue(SeedName, [batch, .. targetShape[1..].Select(d => (long?)d)]));
        var weighted = context.Node("Mul", [target, SeedName]);
        var scoreAxes = context.Ints([.. Enumerable.Range(1, targetShape.Length - 1).Select(i => (long)i)]);
        var score = targetShape.Length > 1 ? context.Node("ReduceSum", [weighted, scoreAxes], Attributes.Int("keepdims", 0)) : weighted;

        if (path.Tensors.Contains(target)) context.Accumulate(target, SeedName);
        // The path's nodes belong to the prepared graph; the clone holds their copies at the same positions.
        var positions = new Dictionary<NodeProto, int>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < prepared.Model.Graph.Node.Count; i++) positions[prepared.Model.Graph.Node[i]] = i;
        var pathNodes = path.Nodes.Select(n => graph.Node[positions[n]]).ToList();
        for (var i = pathNodes.Count - 1; i >= 0; i--)
        {
            var node = pathNodes[i];
            if (node.Output.Any(o => context.Gradient(o) is not null)) Rules[node.OpType].Emit(context, node);
        }

        graph.Output.Clear();
        AddOutput(graph, context, score, ScoreName, [batch]);
        foreach (var name in request.GradientOf.Distinct())
        {
            var gradient = context.Gradient(name) ?? context.ZerosLike(name);
            AddOutput(graph, context, gradient, GradientPrefix + name, [batch, .. shapes[name][1..].Select(d => (long?)d)]);
        }
        foreach (var name in request.ValuesOf.Distinct())
            AddOutput(graph, context, name, ValuePrefix + name, [batch, .. shapes[name][1..].Select(d => (long?)d)]);

        graph.Node.AddRange(context.Nodes);
        graph.Initializer.AddRange(context.Initializers);
        Quantization.RemoveUnused(graph, _ => true);
        var used = graph.Node.SelectMany(n => n.Input).ToHashSet(StringComparer.Ordinal);
        for (var i = graph.Initializer.Count - 1; i >= 0; i--)
            if (!used.Contains(graph.Initializer[i].Name)) graph.Initializer.RemoveAt(i);
        return model.ToByteArray();
    }

    private static void AddOutput(GraphProto graph, BackwardContext context, string tensor, string outputName, long?[] dims)
    {
        context.Nodes.Add(new NodeProto { OpType = "Identity", Name = outputName, Input = { tensor }, Output = { outputName } });
        graph.Output.Add(FloatValue(outputName, dims));
    }

    private static ValueInfoProto FloatValue(string name, long?[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var dim in dims)
            shape.Dim.Add(dim is { } value ? new TensorShapeProto.Types.Dimension { DimValue = value } : new TensorShapeProto.Types.Dimension { DimParam = BatchSymbol });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    /// <summary>
    /// Whether the built model gives, for each example of a batch of 2, what it gives for that example alone: a graph can
    /// hard-code its batch (a Reshape to [1, -1]) where the declared shapes do not say so.
    /// </summary>
    private static bool AcceptsAnyBatch(byte[] model, string inputName, long[] probeShape, long[] targetShape)
    {
        try
        {
            using var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
            using var session = new InferenceSession(model, options);
            var perExampleInput = (int)probeShape.Skip(1).Aggregate(1L, (a, d) => a * d);
            var perExampleSeed = (int)targetShape.Skip(1).Aggregate(1L, (a, d) => a * d);
            var input = new float[2 * perExampleInput];
            for (var i = 0; i < input.Length; i++) input[i] = (float)Math.Sin(0.37 * i);
            var seed = new float[2 * perExampleSeed];
            for (var i = 0; i < seed.Length; i++) seed[i] = (float)Math.Cos(0.11 * i);
            var pair = Run(session, inputName, input, seed, 2, probeShape, targetShape);
            var second = Run(session, inputName, input[perExampleInput..], seed[perExampleSeed..], 1, probeShape, targetShape);
            for (var output = 0; output < pair.Count; output++)
            {
                var half = pair[output].Length / 2;
                if (half != second[output].Length) return false;
                for (var i = 0; i < half; i++)
                {
                    var (a, b) = (pair[output][half + i], second[output][i]);
                    if (Math.Abs(a - b) > 1e-3f * Math.Max(1f, Math.Max(Math.Abs(a), Math.Abs(b)))) return false;
                }
            }
            return true;
        }
        catch (OnnxRuntimeException)
        {
            return false;
        }
    }

    private static List<float[]> Run(InferenceSession session, string inputName, float[] input, float[] seed, long batch, long[] probeShape, long[] targetShape)
    {
        using var inputValue = OrtValue.CreateTensorValueFromMemory(input, [batch, .. probeShape[1..]]);
        using var seedValue = OrtValue.CreateTensorValueFromMemory(seed, [batch, .. targetShape[1..]]);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, [inputName, SeedName], [inputValue, seedValue], session.OutputNames);
        return results.Select(r => r.GetTensorDataAsSpan<float>().ToArray()).ToList();
    }
}
