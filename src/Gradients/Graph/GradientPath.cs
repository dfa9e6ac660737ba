using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Lantern.Gradients.Graph;

/// <summary>
/// The tensors a gradient flows through: float tensors that depend on a tensor of interest and that the target depends
/// on. Integer and shape subgraphs (Shape, Gather on shapes, Concat of shapes, …) stay forward-only. Decided from the
/// graph's structure alone, so a missing rule is reported before anything runs.
/// </summary>
internal sealed class GradientPath
{
    private static readonly HashSet<string> NonFloatOps = new(StringComparer.Ordinal)
    {
        "Shape", "Size", "NonZero", "ArgMax", "ArgMin", "Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual",
        "Not", "And", "Or", "Xor", "IsNaN", "IsInf",
    };

    private GradientPath(HashSet<string> tensors, List<NodeProto> nodes)
    {
        Tensors = tensors;
        Nodes = nodes;
    }

    /// <summary>Tensors that receive a gradient.</summary>
    public IReadOnlySet<string> Tensors { get; }

    /// <summary>Nodes whose backward is emitted, in forward (topological) order.</summary>
    public IReadOnlyList<NodeProto> Nodes { get; }

    public static GradientPath Find(GraphProto graph, IEnumerable<string> sources, string target)
    {
        var active = DependentsOf(graph, sources);

        var reaches = new HashSet<string>(StringComparer.Ordinal) { target };
        for (var i = graph.Node.Count - 1; i >= 0; i--)
        {
            var node = graph.Node[i];
            if (!NonFloatOps.Contains(node.OpType) && node.Output.Any(reaches.Contains))
                foreach (var input in node.Input.Where(n => n.Length > 0)) reaches.Add(input);
        }

        var tensors = active.Where(reaches.Contains).ToHashSet(StringComparer.Ordinal);
        var nodes = graph.Node.Where(n => n.Output.Any(tensors.Contains) && n.Input.Any(tensors.Contains)).ToList();
        return new GradientPath(tensors, nodes);
    }

    /// <summary>The float tensors computed from <paramref name="sources"/> (the sources included).</summary>
    public static HashSet<string> DependentsOf(GraphProto graph, IEnumerable<string> sources)
    {
        var isFloat = FloatTensors(graph);
        var active = sources.Where(isFloat.Contains).ToHashSet(StringComparer.Ordinal);
        foreach (var node in graph.Node)
            if (!NonFloatOps.Contains(node.OpType) && node.Input.Any(active.Contains))
                foreach (var output in node.Output.Where(o => o.Length > 0 && isFloat.Contains(o)))
                    active.Add(output);
        return active;
    }

    private static HashSet<string> FloatTensors(GraphProto graph)
    {
        static bool IsFloatType(long type) => type is (int)DataType.Float or (int)DataType.Double or (int)DataType.Float16 or (int)DataType.Bfloat16;
        var floats = new HashSet<string>(StringComparer.Ordinal);
        foreach (var input in graph.Input)
            if (IsFloatType(input.Type?.TensorType?.ElemType ?? 0)) floats.Add(input.Name);
        foreach (var initializer in graph.Initializer)
            if (IsFloatType(initializer.DataType)) floats.Add(initializer.Name);
        foreach (var node in graph.Node)
        {
            bool outputIsFloat = node.OpType switch
            {
                _ when NonFloatOps.Contains(node.OpType) => false,
                "Constant" => node.Attribute.FirstOrDefault() is { } value && (value.T is null ? value.Name is "value_float" or "value_floats" : IsFloatType(value.T.DataType)),
                "ConstantOfShape" => node.Find("value") is not { } value || IsFloatType(value.T.DataType),
                "Cast" or "CastLike" => node.OpType == "Cast" ? IsFloatType(node.GetInt("to", 0)) : floats.Contains(node.Input[1]),
                "Where" => floats.Contains(node.Input[1]),
                _ => node.Input.FirstOrDefault(i => i.Length > 0) is { } first && floats.Contains(first),
            };
            // MaxPool's Indices and TopK's indices are integers.
            var floatOutputs = node.OpType is "MaxPool" or "TopK" ? node.Output.Take(1) : node.Output;
            if (outputIsFloat)
                foreach (var output in floatOutputs.Where(o => o.Length > 0)) floats.Add(output);
        }
        return floats;
    }
}
