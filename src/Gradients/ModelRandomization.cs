using Google.Protobuf;
using Lantern.Gradients.Graph;
using Onnx;

namespace Lantern.Gradients;

/// <summary>
/// The model-randomisation sanity check's models (Adebayo et al. 2018, "Sanity Checks for Saliency Maps"): the weights of
/// the parameterised layers re-drawn at random, cascading from the output towards the input. An explanation that still
/// looks the same once the layers it should depend on are random explains the image, not the model.
/// </summary>
public static class ModelRandomization
{
    private static readonly HashSet<string> Parameterised = ["Conv", "ConvTranspose", "Gemm", "MatMul"];

    /// <summary>The parameterised layers (nodes whose weight is a float32 initializer), from the output towards the input.</summary>
    public static IReadOnlyList<string> Layers(byte[] model)
    {
        var proto = ModelProto.Parser.ParseFrom(model);
        return [.. WeightedNodes(proto.Graph).Select(n => n.Node.Name.Length > 0 ? n.Node.Name : n.Node.Output[0])];
    }

    /// <summary>
    /// The model with the weights and biases of its <paramref name="count"/> layers nearest the output replaced by
    /// Gaussian values of each tensor's own standard deviation (mean 0), drawn from <paramref name="seed"/>: the same
    /// arguments give the same bytes. Every other tensor, and the graph, stay as they are.
    /// </summary>
    public static byte[] Cascade(byte[] model, int count, ulong seed)
    {
        var proto = ModelProto.Parser.ParseFrom(model);
        var layers = WeightedNodes(proto.Graph).ToList();
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count > layers.Count) throw new ArgumentOutOfRangeException(nameof(count), $"the model has {layers.Count} parameterised layers, not {count}");
        var initializers = proto.Graph.Initializer.Select((t, i) => (t.Name, i)).ToDictionary(p => p.Name, p => p.i);
        var random = new Random(unchecked((int)(seed ^ (seed >> 32))));
        foreach (var (node, _) in layers.Take(count))
        {
            foreach (var input in node.Input.Skip(1).Take(2)) // weight, and bias where there is one
            {
                if (!initializers.TryGetValue(input, out var at) || proto.Graph.Initializer[at].DataType != (int)TensorProto.Types.DataType.Float) continue;
                var tensor = proto.Graph.Initializer[at];
                var values = Tensors.ReadFloats(tensor);
                var mean = values.Average(v => (double)v);
                var std = Math.Sqrt(values.Average(v => (v - mean) * (v - mean)));
                if (std == 0) std = 0.01; // a constant tensor (biases at zero): still re-drawn
                var drawn = new float[values.Length];
                for (var i = 0; i < drawn.Length; i++) drawn[i] = (float)(std * Normal(random));
                proto.Graph.Initializer[at] = Tensors.Floats(tensor.Name, [.. tensor.Dims], drawn);
            }
        }
        return proto.ToByteArray();
    }

    /// <summary>Nodes with a float32 initializer as their weight (input 1), in reverse graph order: the output's side first.</summary>
    private static IEnumerable<(NodeProto Node, TensorProto Weight)> WeightedNodes(GraphProto graph)
    {
        var initializers = graph.Initializer.ToDictionary(t => t.Name);
        return graph.Node.Reverse()
            .Where(n => Parameterised.Contains(n.OpType) && n.Input.Count > 1 && initializers.TryGetValue(n.Input[1], out var w)
                        && w.DataType == (int)TensorProto.Types.DataType.Float)
            .Select(n => (n, initializers[n.Input[1]]));
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
