using Lantern.Gradients.Graph;
using Onnx;

namespace Lantern.Gradients.Rules;

/// <summary>
/// MaxPool: the forward node is asked for its Indices output (flat over the whole N·C·H·W tensor, padding not counted),
/// and dY is scattered, with addition for overlapping windows, onto a flat zero tensor of X's size.
/// </summary>
internal sealed class MaxPoolRule : IBackwardRule
{
    public string OpType => "MaxPool";

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is not { } dY) return;
        if (node.GetInt("storage_order", 0) != 0)
            throw new UnsupportedModelException($"MaxPool (node '{node.Describe()}') uses column-major storage_order, which Lantern cannot differentiate");
        if (node.Output.Count < 2 || node.Output[1].Length == 0)
        {
            while (node.Output.Count < 2) node.Output.Add("");
            node.Output[1] = context.Fresh("maxpool_indices");
        }
        var x = node.Input[0];
        var flatIndices = context.Node("Reshape", [node.Output[1], context.Ints(-1)]);
        var flatGradient = context.Node("Reshape", [dY, context.Ints(-1)]);
        var zeros = context.Node("ConstantOfShape", [context.Node("Reshape", [context.Node("Size", [x]), context.Ints(1)])],
            Attributes.Tensor("value", Tensors.Floats("", [1], [0f])));
        var scattered = context.Node("ScatterElements", [zeros, flatIndices, flatGradient], Attributes.Int("axis", 0), Attributes.String("reduction", "add"));
        context.Accumulate(x, context.ReshapeLike(scattered, x));
    }
}

/// <summary>
/// AveragePool (pads, count_include_pad, ceil_mode): dX = ConvTranspose(dY / count, ones, group = C). Each output's
/// divisor is taken from ONNX Runtime itself (pooling a tensor of ones), so its edge conventions are matched exactly.
/// </summary>
internal sealed class AveragePoolRule(Func<NodeProto, long[], float[]> windowWeights) : IBackwardRule
{
    public string OpType => "AveragePool";

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is not { } dY) return;
        if (node.GetInts("dilations") is { } dilations && dilations.Any(d => d != 1))
            throw new UnsupportedModelException($"AveragePool (node '{node.Describe()}') uses dilations, which Lantern cannot differentiate");
        var x = node.Input[0];
        var inputShape = context.ShapeOf(x);
        var outputShape = context.ShapeOf(node.Output[0]);
        var kernel = node.GetInts("kernel_shape")!;
        var geometry = WindowGeometry.Resolve(node, kernel, inputShape[2..], outputShape[2..]);
        // weight[o] = 1 / (divisor of output o), one plane broadcast over batch and channels.
        var weights = windowWeights(node, [1, 1, .. inputShape[2..]]);
        // Shaped from dY at run time: for some ceil_mode windows ONNX shape inference and ONNX Runtime's kernel disagree
        // on the output size, and a constant of the kernel's size would fail the model's load-time shape check.
        var planeShape = context.Node("Concat", [context.Ints(1, 1), context.Node("Slice", [context.DynamicShape(node.Output[0]), context.Ints(2), context.Ints(long.MaxValue)])], Attributes.Int("axis", 0));
        var perOutput = context.Node("Reshape", [context.Floats([weights.Length], weights), planeShape]);
        var channels = inputShape[1];
        var ones = context.Floats([channels, 1, .. kernel], Enumerable.Repeat(1f, (int)(channels * kernel.Aggregate(1L, (a, k) => a * k))).ToArray());
        var scaled = context.Node("Mul", [dY, perOutput]);
        context.Accumulate(x, geometry.Transposed(context, scaled, ones, channels, inputShape[2..], outputShape[2..]));
    }
}

/// <summary>GlobalAveragePool: dX = dY broadcast over the spatial axes / (H·W).</summary>
internal sealed class GlobalAveragePoolRule : IBackwardRule
{
    public string OpType => "GlobalAveragePool";

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is not { } dY) return;
        var x = node.Input[0];
        var count = context.ShapeOf(x)[2..].Aggregate(1L, (a, d) => a * d);
        var spread = context.Node("Expand", [dY, context.DynamicShape(x)]);
        context.Accumulate(x, context.Node("Mul", [spread, context.Scalar(1f / count)]));
    }
}

/// <summary>ReduceSum and ReduceMean (axes as attribute or input, keepdims, noop_with_empty_axes): dY broadcast back, ÷ count for the mean.</summary>
internal sealed class ReduceRule(string opType) : IBackwardRule
{
    public string OpType => opType;

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is not { } dY) return;
        var x = node.Input[0];
        var shape = context.ShapeOf(x);
        var axesValue = node.GetInts("axes")
            ?? (node.Input.Count > 1 && node.Input[1].Length > 0
                ? context.Forward.ConstantInts(node.Input[1]) ?? throw new UnsupportedModelException($"{opType} (node '{node.Describe()}') has computed axes, which Lantern cannot differentiate")
                : null);
        if (axesValue is { Length: 0 }) axesValue = null;
        if (axesValue is null && node.GetInt("noop_with_empty_axes", 0) == 1)
        {
            context.Accumulate(x, dY);
            return;
        }
        var axes = (axesValue ?? Enumerable.Range(0, shape.Length).Select(i => (long)i).ToArray())
            .Select(a => BackwardContext.NormaliseAxis(a, shape.Length)).Order().ToArray();
        if (axes.Contains(0))
            throw new UnsupportedModelException($"{opType} (node '{node.Describe()}') reduces over the batch axis, which Lantern cannot differentiate");
        var kept = node.GetInt("keepdims", 1) == 1 ? dY : context.Node("Unsqueeze", [dY, context.Ints(axes)]);
        var spread = context.Node("Expand", [kept, context.DynamicShape(x)]);
        if (opType == "ReduceMean")
        {
            var count = axes.Aggregate(1L, (a, axis) => a * shape[axis]);
            spread = context.Node("Mul", [spread, context.Scalar(1f / count)]);
        }
        context.Accumulate(x, spread);
    }
}

/// <summary>GlobalMaxPool: dY goes to the maximum of each channel's plane, shared equally among tied maxima.</summary>
internal sealed class GlobalMaxPoolRule : IBackwardRule
{
    public string OpType => "GlobalMaxPool";

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is not { } dY) return;
        var x = node.Input[0];
        var spatial = Enumerable.Range(2, context.RankOf(x) - 2).Select(a => (long)a).ToArray();
        var wins = context.Node("Cast", [context.Node("Equal", [x, node.Output[0]])], Attributes.Int("to", (long)TensorProto.Types.DataType.Float));
        var count = context.Node("ReduceSum", [wins, context.Ints(spatial)], Attributes.Int("keepdims", 1));
        context.Accumulate(x, context.Node("Mul", [wins, context.Node("Div", [dY, count])]));
    }
}
