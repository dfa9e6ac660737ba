using Lantern.Gradients.Graph;
using Onnx;

namespace Lantern.Gradients.Rules;

/// <summary>
/// What a backward rule works with: the forward graph, the probed shapes (batch 1), the gradients accumulated so far,
/// and a place to append nodes and constants. Gradients of a tensor read by several nodes are summed.
/// </summary>
internal sealed class BackwardContext
{
    private readonly Dictionary<string, List<string>> gradients = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> shapeTensors = new(StringComparer.Ordinal);
    private readonly IReadOnlyDictionary<string, long[]> shapes;
    private readonly IReadOnlySet<string> path;
    private readonly Names names = new(PreparedModel.NamePrefix + "bwd/");

    public BackwardContext(GraphIndex forward, IReadOnlyDictionary<string, long[]> shapes, IReadOnlySet<string> path, Gradients.ReluRule relu)
    {
        Forward = forward;
        this.shapes = shapes;
        this.path = path;
        Relu = relu;
    }

    public GraphIndex Forward { get; }

    public Gradients.ReluRule Relu { get; }

    public List<NodeProto> Nodes { get; } = [];

    public List<TensorProto> Initializers { get; } = [];

    public bool NeedsGradient(string tensor) => tensor.Length > 0 && path.Contains(tensor);

    /// <summary>The probed shape at batch 1, batch dimension included.</summary>
    public long[] ShapeOf(string tensor) =>
        shapes.TryGetValue(tensor, out var shape) ? shape : throw new InvalidOperationException($"no probed shape for '{tensor}'");

    public int RankOf(string tensor) => ShapeOf(tensor).Length;

    /// <summary>The gradient of <paramref name="tensor"/>, summed over its consumers; null when none reached it.</summary>
    public string? Gradient(string tensor)
    {
        if (!gradients.TryGetValue(tensor, out var parts)) return null;
        if (parts.Count > 1)
        {
            var sum = Node("Sum", parts);
            parts.Clear();
            parts.Add(sum);
        }
        return parts[0];
    }

    /// <summary>Adds a contribution to the gradient of <paramref name="tensor"/> when the gradient path runs through it.</summary>
    public void Accumulate(string tensor, string gradient)
    {
        if (!NeedsGradient(tensor)) return;
        if (!gradients.TryGetValue(tensor, out var parts)) gradients[tensor] = parts = [];
        parts.Add(gradient);
    }

    public string Fresh(string hint) => names.Fresh(hint);

    public string Node(string opType, IEnumerable<string> inputs, params AttributeProto[] attributes) =>
        Node(opType, inputs, 1, attributes)[0];

    public string[] Node(string opType, IEnumerable<string> inputs, int outputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = Fresh(opType) };
        node.Input.AddRange(inputs);
        for (var i = 0; i < outputs; i++) node.Output.Add(Fresh(opType.ToLowerInvariant()));
        node.Attribute.AddRange(attributes);
        Nodes.Add(node);
        return node.Output.ToArray();
    }

    public string Ints(params long[] values)
    {
        var name = Fresh("ints");
        Initializers.Add(Tensors.Int64s(name, [values.Length], values));
        return name;
    }

    public string Floats(long[] dims, float[] values)
    {
        var name = Fresh("floats");
        Initializers.Add(Tensors.Floats(name, dims, values));
        return name;
    }

    public string Scalar(float value) => Floats([], [value]);

    /// <summary>Shape(tensor), computed once per tensor, so any batch size works.</summary>
    public string DynamicShape(string tensor)
    {
        if (!shapeTensors.TryGetValue(tensor, out var shape)) shapeTensors[tensor] = shape = Node("Shape", [tensor]);
        return shape;
    }

    public string ReshapeLike(string value, string like) => Node("Reshape", [value, DynamicShape(like)]);

    public string ZerosLike(string tensor) =>
        Node("ConstantOfShape", [DynamicShape(tensor)], Attributes.Tensor("value", Tensors.Floats("", [1], [0f])));

    /// <summary>
    /// Sums a gradient computed at the broadcast shape <paramref name="gradientShape"/> back to the shape of
    /// <paramref name="operand"/> (numpy broadcasting). The batch axis is never a broadcast axis: an operand that needs
    /// a gradient depends on the input and so carries the batch.
    /// </summary>
    public string ReduceToShapeOf(string gradient, long[] gradientShape, string operand)
    {
        var operandShape = ShapeOf(operand);
        var offset = gradientShape.Length - operandShape.Length;
        var axes = new List<long>();
        for (var axis = 0; axis < gradientShape.Length; axis++)
        {
            var operandAxis = axis - offset;
            if (operandAxis < 0 || (operandShape[operandAxis] == 1 && gradientShape[axis] != 1)) axes.Add(axis);
        }
        if (axes.Count == 0 && offset == 0) return gradient;
        var reduced = axes.Count == 0 ? gradient : Node("ReduceSum", [gradient, Ints([.. axes])], Attributes.Int("keepdims", 1));
        return ReshapeLike(reduced, operand);
    }

    public static long NormaliseAxis(long axis, int rank) => axis < 0 ? axis + rank : axis;
}
