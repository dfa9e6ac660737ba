using Onnx;

namespace Lantern.Gradients.Graph;

/// <summary>
/// Gradients are taken on the dequantized twin of a quantized model. QDQ models are float graphs with
/// QuantizeLinear/DequantizeLinear around each op: weights are folded into float32 initializers, and an activation's
/// QuantizeLinear→DequantizeLinear pair passes the value straight through (the rounding has no useful gradient).
/// QOperator models (QLinearConv, …) compute in integers and have no float twin here.
/// </summary>
internal static class Quantization
{
    private static readonly HashSet<string> IntegerOperators = new(StringComparer.Ordinal)
    {
        "ConvInteger", "MatMulInteger", "QGemm", "DynamicQuantizeLinear", "DynamicQuantizeMatMul", "MatMulIntegerToFloat",
        "QAttention", "QEmbedLayerNormalization", "QOrderedMatMul", "QOrderedGelu", "QOrderedLayerNormalization",
    };

    public static void RejectIntegerOperators(GraphProto graph)
    {
        foreach (var node in graph.Node)
            if (node.OpType.StartsWith("QLinear", StringComparison.Ordinal) || IntegerOperators.Contains(node.OpType))
                throw new UnsupportedModelException(
                    $"the model cannot be differentiated: op '{node.OpType}' (node '{node.Describe()}') computes in integers (a QOperator-quantized model); " +
                    "use the model's fp32 (or QDQ) version");
    }

    /// <summary>Removes QuantizeLinear/DequantizeLinear; returns how many activation pairs became pass-through.</summary>
    public static (int Pairs, int Weights, int ReluPairs) Dequantize(GraphProto graph)
    {
        var index = new GraphIndex(graph);
        var initializers = graph.Initializer.ToDictionary(i => i.Name, StringComparer.Ordinal);
        var pairs = 0;
        var reluPairs = 0;
        var weights = 0;
        var replaced = new List<NodeProto>();
        var foldedWeights = new List<TensorProto>();
        for (var i = 0; i < graph.Node.Count; i++)
        {
            var node = graph.Node[i];
            if (node.OpType != "DequantizeLinear") continue;
            if (initializers.TryGetValue(node.Input[0], out var quantized))
            {
                foldedWeights.Add(DequantizedWeight(node, quantized, index));
                replaced.Add(node);
                weights++;
                continue;
            }
            var quantize = index.Producer(node.Input[0]);
            if (quantize?.OpType != "QuantizeLinear")
                throw new UnsupportedModelException(
                    $"the model cannot be differentiated: DequantizeLinear (node '{node.Describe()}') reads '{node.Input[0]}', which is neither a weight nor a QuantizeLinear output; use the fp32 model");
            // The quantized range [(qmin − zp)·s, (qmax − zp)·s] starting at 0 is how QDQ exporters fuse a ReLU into
            // the quantization; keep that ReLU, or the dequantized graph computes a different function.
            var startsAtZero = ZeroPointIsRangeStart(quantize, index);
            var passThrough = new NodeProto { OpType = startsAtZero ? "Relu" : "Identity", Name = node.Name };
            passThrough.Input.Add(quantize.Input[0]);
            passThrough.Output.Add(node.Output[0]);
            graph.Node[i] = passThrough;
            pairs++;
            if (startsAtZero) reluPairs++;
        }
        if (replaced.Count == 0 && pairs == 0) return (0, 0, 0);
        foreach (var node in replaced) graph.Node.Remove(node);
        foreach (var weight in foldedWeights) graph.Initializer.Add(weight);
        RemoveUnused(graph, n => n.OpType == "QuantizeLinear");
        if (graph.Node.Any(n => n.OpType == "QuantizeLinear"))
        {
            var left = graph.Node.First(n => n.OpType == "QuantizeLinear");
            throw new UnsupportedModelException(
                $"the model cannot be differentiated: QuantizeLinear (node '{left.Describe()}') is not followed by a DequantizeLinear; use the fp32 model");
        }
        var used = graph.Node.SelectMany(n => n.Input).ToHashSet(StringComparer.Ordinal);
        for (var i = graph.Initializer.Count - 1; i >= 0; i--)
            if (!used.Contains(graph.Initializer[i].Name) && graph.Output.All(o => o.Name != graph.Initializer[i].Name))
            {
                var name = graph.Initializer[i].Name;
                graph.Initializer.RemoveAt(i);
                for (var j = graph.Input.Count - 1; j >= 0; j--)
                    if (graph.Input[j].Name == name) graph.Input.RemoveAt(j);
            }
        return (pairs, weights, reluPairs);
    }

    private static TensorProto DequantizedWeight(NodeProto node, TensorProto quantized, GraphIndex index)
    {
        var values = Tensors.ReadAsDoubles(quantized);
        var scale = index.ConstantFloats(node.Input[1])
            ?? throw new UnsupportedModelException($"DequantizeLinear (node '{node.Describe()}') has a computed scale; use the fp32 model");
        var zeroPoint = node.Input.Count > 2 && node.Input[2].Length > 0
            ? index.Constant(node.Input[2]) is { } zp ? Tensors.ReadAsDoubles(zp) : throw new UnsupportedModelException($"DequantizeLinear (node '{node.Describe()}') has a computed zero point")
            : [0.0];
        var dims = quantized.Dims.ToArray();
        var result = new float[values.Length];
        if (scale.Length == 1)
        {
            for (var i = 0; i < values.Length; i++) result[i] = (float)((values[i] - zeroPoint[0]) * scale[0]);
        }
        else
        {
            var axis = (int)node.GetInt("axis", 1);
            if (axis < 0) axis += dims.Length;
            var inner = dims.Skip(axis + 1).Aggregate(1L, (a, d) => a * d);
            var channels = dims[axis];
            for (var i = 0; i < values.Length; i++)
            {
                var channel = (int)(i / inner % channels);
                result[i] = (float)((values[i] - zeroPoint[zeroPoint.Length == 1 ? 0 : channel]) * scale[channel]);
            }
        }
        return Tensors.Floats(node.Output[0], dims, result);
    }

    private static bool ZeroPointIsRangeStart(NodeProto quantize, GraphIndex index)
    {
        if (quantize.Input.Count < 3 || quantize.Input[2].Length == 0) return true; // the default zero point is uint8 0
        var zeroPoint = index.Constant(quantize.Input[2]);
        if (zeroPoint is null) return false;
        var qmin = (TensorProto.Types.DataType)zeroPoint.DataType switch
        {
            TensorProto.Types.DataType.Uint8 or TensorProto.Types.DataType.Uint16 => 0.0,
            TensorProto.Types.DataType.Int8 => -128.0,
            TensorProto.Types.DataType.Int16 => -32768.0,
            _ => double.NaN,
        };
        return Tensors.ReadAsDoubles(zeroPoint).All(z => z == qmin);
    }

    /// <summary>Removes nodes matching <paramref name="removable"/> whose outputs nothing reads, repeatedly.</summary>
    public static void RemoveUnused(GraphProto graph, Func<NodeProto, bool> removable)
    {
        bool removed;
        do
        {
            var used = graph.Node.SelectMany(n => n.Input).Concat(graph.Output.Select(o => o.Name)).ToHashSet(StringComparer.Ordinal);
            removed = false;
            for (var i = graph.Node.Count - 1; i >= 0; i--)
            {
                var node = graph.Node[i];
                if (removable(node) && node.Output.All(o => o.Length == 0 || !used.Contains(o)))
                {
                    graph.Node.RemoveAt(i);
                    removed = true;
                }
            }
        } while (removed);
    }
}
