using Google.Protobuf;
using Onnx;

namespace Lantern.Gradients.Tests.Support;

/// <summary>
/// Builds small ONNX models for the gradient specs: one float input whose first dimension is the symbolic batch "N",
/// initializers with seeded random values, nodes with attributes, the first output as the target.
/// Opset 17 unless <see cref="Opset"/> asks for an older one (9, 11, 12 exercise the builder's upgrade path).
/// </summary>
public sealed class OnnxGraph
{
    private readonly GraphProto graph = new() { Name = "lantern_gradient_spec" };
    private readonly Random random;
    private int nodeCount;

    public OnnxGraph(int opset = 17, int seed = 1)
    {
        Opset = opset;
        random = new Random(seed);
    }

    public int Opset { get; }

    /// <summary>A float32 graph input; a dimension of -1 is the symbol "N" (the batch).</summary>
    public string Input(string name, params long[] dims)
    {
        graph.Input.Add(Value(name, TensorProto.Types.DataType.Float, dims));
        return name;
    }

    /// <summary>Marks a tensor as a graph output (float32, shape left to inference). The first one is the target.</summary>
    public OnnxGraph Output(params string[] names)
    {
        foreach (var name in names) graph.Output.Add(Value(name, TensorProto.Types.DataType.Float, null));
        return this;
    }

    /// <summary>A float32 initializer; values uniform in [low, high) from the graph's seeded generator unless given.</summary>
    public string Weight(string name, long[] dims, float[]? values = null, float low = -1f, float high = 1f)
    {
        var count = dims.Aggregate(1L, (a, b) => a * b);
        values ??= Enumerable.Range(0, (int)count).Select(_ => low + (high - low) * (float)random.NextDouble()).ToArray();
        if (values.Length != count) throw new ArgumentException($"{name}: {values.Length} values for {count} elements");
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.AddRange(dims);
        tensor.FloatData.AddRange(values);
        graph.Initializer.Add(tensor);
        return name;
    }

    /// <summary>A float32 scalar initializer (rank 0).</summary>
    public string Scalar(string name, float value)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.FloatData.Add(value);
        graph.Initializer.Add(tensor);
        return name;
    }

    /// <summary>An int64 1-D initializer (shapes, axes, pads, starts/ends); <paramref name="scalar"/> makes it rank 0.</summary>
    public string Ints(string name, long[] values, bool scalar = false)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        if (!scalar) tensor.Dims.Add(values.Length);
        tensor.Int64Data.AddRange(values);
        graph.Initializer.Add(tensor);
        return name;
    }

    /// <summary>Any initializer, for the integer tensors of quantized graphs.</summary>
    public string Tensor(TensorProto tensor)
    {
        graph.Initializer.Add(tensor);
        return tensor.Name;
    }

    /// <summary>Adds a node with one output named after <paramref name="output"/>; returns that name.</summary>
    public string Node(string op, string[] inputs, string output, params (string Name, object Value)[] attributes) =>
        NodeNamed($"{op}_{nodeCount}", op, inputs, [output], attributes)[0];

    /// <summary>Adds a node with several outputs.</summary>
    public string[] Node(string op, string[] inputs, string[] outputs, params (string Name, object Value)[] attributes) =>
        NodeNamed($"{op}_{nodeCount}", op, inputs, outputs, attributes);

    /// <summary>Adds a node with an explicit node name (the error specs look for it in messages).</summary>
    public string[] NodeNamed(string nodeName, string op, string[] inputs, string[] outputs,
        params (string Name, object Value)[] attributes) => NodeIn("", nodeName, op, inputs, outputs, attributes);

    /// <summary>Adds a node of another operator domain (com.microsoft) with an explicit name.</summary>
    public string[] NodeIn(string domain, string nodeName, string op, string[] inputs, string[] outputs,
        params (string Name, object Value)[] attributes)
    {
        nodeCount++;
        var node = new NodeProto { OpType = op, Name = nodeName, Domain = domain };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        foreach (var (name, value) in attributes) node.Attribute.Add(Attribute(name, value));
        graph.Node.Add(node);
        if (domain.Length > 0 && !extraDomains.Contains(domain)) extraDomains.Add(domain);
        return outputs;
    }

    private readonly List<string> extraDomains = [];

    public ModelProto ToProto()
    {
        var model = new ModelProto
        {
            // IR 8 carries every opset used here (7 to 18); initializers need not be graph inputs.
            IrVersion = 8,
            ProducerName = "Lantern.Gradients.Tests",
            Graph = graph.Clone(),
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        foreach (var domain in extraDomains) model.OpsetImport.Add(new OperatorSetIdProto { Domain = domain, Version = 1 });
        return model;
    }

    public byte[] Build() => ToProto().ToByteArray();

    private static AttributeProto Attribute(string name, object value)
    {
        var a = new AttributeProto { Name = name };
        switch (value)
        {
            case int i: a.Type = AttributeProto.Types.AttributeType.Int; a.I = i; break;
            case long l: a.Type = AttributeProto.Types.AttributeType.Int; a.I = l; break;
            case float f: a.Type = AttributeProto.Types.AttributeType.Float; a.F = f; break;
            case double d: a.Type = AttributeProto.Types.AttributeType.Float; a.F = (float)d; break;
            case string s: a.Type = AttributeProto.Types.AttributeType.String; a.S = ByteString.CopyFromUtf8(s); break;
            case int[] ints: a.Type = AttributeProto.Types.AttributeType.Ints; a.Ints.AddRange(ints.Select(x => (long)x)); break;
            case long[] longs: a.Type = AttributeProto.Types.AttributeType.Ints; a.Ints.AddRange(longs); break;
            case float[] floats: a.Type = AttributeProto.Types.AttributeType.Floats; a.Floats.AddRange(floats); break;
            case TensorProto t: a.Type = AttributeProto.Types.AttributeType.Tensor; a.T = t; break;
            default: throw new ArgumentException($"attribute {name}: unsupported value type {value.GetType()}");
        }
        return a;
    }

    internal static ValueInfoProto Value(string name, TensorProto.Types.DataType type, long[]? dims)
    {
        var tensorType = new TypeProto.Types.Tensor { ElemType = (int)type };
        if (dims is not null)
        {
            var shape = new TensorShapeProto();
            foreach (var d in dims)
                shape.Dim.Add(d < 0 ? new TensorShapeProto.Types.Dimension { DimParam = "N" } : new TensorShapeProto.Types.Dimension { DimValue = d });
            tensorType.Shape = shape;
        }
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensorType } };
    }
}
