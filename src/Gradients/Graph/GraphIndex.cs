using Onnx;

namespace Lantern.Gradients.Graph;

/// <summary>Who produces and who consumes each tensor of a graph, and the constant values it holds.</summary>
internal sealed class GraphIndex
{
    private readonly Dictionary<string, NodeProto> producers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<NodeProto>> consumers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TensorProto> constants = new(StringComparer.Ordinal);

    public GraphIndex(GraphProto graph)
    {
        Graph = graph;
        foreach (var initializer in graph.Initializer) constants[initializer.Name] = initializer;
        foreach (var node in graph.Node)
        {
            foreach (var output in node.Output.Where(o => o.Length > 0)) producers[output] = node;
            foreach (var input in node.Input.Where(i => i.Length > 0))
            {
                if (!consumers.TryGetValue(input, out var list)) consumers[input] = list = [];
                if (!list.Contains(node)) list.Add(node);
            }
            if (node.OpType == "Constant" && node.Find("value") is { T: { } value }) constants[node.Output[0]] = value;
        }
    }

    public GraphProto Graph { get; }

    public NodeProto? Producer(string tensor) => producers.GetValueOrDefault(tensor);

    public IReadOnlyList<NodeProto> Consumers(string tensor) => consumers.TryGetValue(tensor, out var list) ? list : [];

    public bool IsGraphOutput(string tensor) => Graph.Output.Any(o => o.Name == tensor);

    /// <summary>The value of an initializer or Constant output; null when the tensor is computed.</summary>
    public TensorProto? Constant(string tensor) => constants.GetValueOrDefault(tensor);

    public long[]? ConstantInts(string tensor) => Constant(tensor) is { } t ? Tensors.ReadInt64s(t) : null;

    public float[]? ConstantFloats(string tensor) => Constant(tensor) is { } t ? Tensors.ReadFloats(t) : null;

    public bool Exists(string tensor) =>
        producers.ContainsKey(tensor) || constants.ContainsKey(tensor) || Graph.Input.Any(i => i.Name == tensor);
}
