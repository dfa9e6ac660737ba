using Onnx;

namespace Lantern.Gradients.Graph;

/// <summary>
/// The source model normalised for differentiation: dequantized, float32, opset 17 forms, one input, no recorded
/// intermediate shapes.
/// </summary>
internal sealed record PreparedModel(
    ModelProto Model,
    string InputName,
    long?[] InputDims,
    string FirstOutput,
    string? SoftmaxLogits,
    IReadOnlyList<string> Notes)
{
    public const string NamePrefix = "lantern/";

    public static PreparedModel From(byte[] onnxModel)
    {
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(onnxModel);
        }
        catch (Google.Protobuf.InvalidProtocolBufferException e)
        {
            throw new UnsupportedModelException($"the file is not an ONNX model: {e.Message}");
        }
        var graph = model.Graph ?? throw new UnsupportedModelException("the ONNX model has no graph");
        var notes = new List<string>();
        Quantization.RejectIntegerOperators(graph);

        var initializers = graph.Initializer.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        var inputs = graph.Input.Where(i => !initializers.Contains(i.Name)).ToList();
        if (inputs.Count != 1)
            throw new UnsupportedModelException($"Lantern explains models with one input; this one has {inputs.Count} ({string.Join(", ", inputs.Select(i => i.Name))})");
        if (graph.Output.Count == 0) throw new UnsupportedModelException("the ONNX model has no outputs");
        var input = inputs[0];
        var inputDims = input.Type?.TensorType?.Shape?.Dim.Select(d => d.HasDimValue ? d.DimValue : (long?)null).ToArray()
            ?? throw new UnsupportedModelException($"the model's input '{input.Name}' has no declared shape");

        var (pairs, weights, reluPairs) = Quantization.Dequantize(graph);
        if (pairs > 0 || weights > 0)
            notes.Add($"dequantized {pairs} QuantizeLinear/DequantizeLinear pairs (straight-through; {reluPairs} whose range starts at 0 kept as ReLU) and {weights} quantized weights");
        if (Float16.ConvertToFloat32(graph)) notes.Add("converted the float16 model to float32");

        var firstOutput = graph.Output[0].Name;
        var softmaxLogits = SoftmaxInput(graph, firstOutput);

        var opset = model.OpsetImport.FirstOrDefault(o => o.Domain is "" or "ai.onnx")?.Version ?? 1;
        var names = new Names(NamePrefix + "fwd/");
        OpsetUpgrade.Upgrade(graph, opset, names);
        foreach (var import in model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").ToList()) model.OpsetImport.Remove(import);
        model.OpsetImport.Insert(0, new OperatorSetIdProto { Domain = "", Version = Math.Max(opset, OpsetUpgrade.TargetOpset) });
        if (opset < OpsetUpgrade.TargetOpset) notes.Add($"upgraded the graph from opset {opset} to {OpsetUpgrade.TargetOpset}");
        model.IrVersion = Math.Max(model.IrVersion, 8);

        initializers = graph.Initializer.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        for (var i = graph.Input.Count - 1; i >= 0; i--)
            if (initializers.Contains(graph.Input[i].Name)) graph.Input.RemoveAt(i);
        graph.ValueInfo.Clear();
        SortTopologically(graph);
        return new PreparedModel(model, input.Name, inputDims, firstOutput, softmaxLogits, notes);
    }

    /// <summary>The logits when <paramref name="output"/> is a Softmax's result, seen through shape-only ops.</summary>
    private static string? SoftmaxInput(GraphProto graph, string output)
    {
        var index = new GraphIndex(graph);
        var tensor = output;
        while (index.Producer(tensor) is { } producer)
        {
            switch (producer.OpType)
            {
                case "Softmax":
                    return producer.Input[0];
                case "Reshape" or "Flatten" or "Identity" or "Squeeze" or "Unsqueeze" or "Dropout":
                    tensor = producer.Input[0];
                    break;
                default:
                    return null;
            }
        }
        return null;
    }

    /// <summary>Kahn's order, ties broken by the original position, so a well-formed graph keeps its order.</summary>
    public static void SortTopologically(GraphProto graph)
    {
        var nodes = graph.Node.ToList();
        var producedBy = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < nodes.Count; i++)
            foreach (var output in nodes[i].Output.Where(o => o.Length > 0)) producedBy[output] = i;
        var pending = new int[nodes.Count];
        var dependents = new List<int>[nodes.Count];
        for (var i = 0; i < nodes.Count; i++) dependents[i] = [];
        for (var i = 0; i < nodes.Count; i++)
            foreach (var producer in nodes[i].Input.Where(n => n.Length > 0 && producedBy.ContainsKey(n)).Select(n => producedBy[n]).Distinct())
            {
                pending[i]++;
                dependents[producer].Add(i);
            }
        var ready = new SortedSet<int>(Enumerable.Range(0, nodes.Count).Where(i => pending[i] == 0));
        var order = new List<NodeProto>(nodes.Count);
        while (ready.Count > 0)
        {
            var next = ready.Min;
            ready.Remove(next);
            order.Add(nodes[next]);
            foreach (var dependent in dependents[next])
                if (--pending[dependent] == 0) ready.Add(dependent);
        }
        if (order.Count != nodes.Count) throw new UnsupportedModelException("the ONNX graph has a cycle");
        graph.Node.Clear();
        graph.Node.AddRange(order);
    }
}
