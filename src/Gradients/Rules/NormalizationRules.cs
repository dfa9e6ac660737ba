using Lantern.Gradients.Graph;
using Onnx;

namespace Lantern.Gradients.Rules;

/// <summary>BatchNormalization in inference mode is a per-channel affine map: dX = dY·scale / √(var + ε).</summary>
internal sealed class BatchNormalizationRule : IBackwardRule
{
    public string OpType => "BatchNormalization";

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is not { } dY) return;
        if (node.GetInt("training_mode", 0) != 0)
            throw new UnsupportedModelException($"BatchNormalization (node '{node.Describe()}') is in training mode; export the model for inference");
        if (node.Input.Skip(1).Any(context.NeedsGradient))
            throw new UnsupportedModelException($"BatchNormalization (node '{node.Describe()}') computes its statistics from the input, which Lantern cannot differentiate");
        var x = node.Input[0];
        var rank = context.RankOf(x);
        var epsilon = node.GetFloat("epsilon", 1e-5f);
        var factor = context.Node("Div", [node.Input[1], context.Node("Sqrt", [context.Node("Add", [node.Input[4], context.Scalar(epsilon)])])]);
        if (rank > 2) factor = context.Node("Unsqueeze", [factor, context.Ints([.. Enumerable.Range(1, rank - 2).Select(i => (long)i)])]);
        context.Accumulate(x, context.Node("Mul", [dY, factor]));
    }
}

/// <summary>
/// LRN, Y = X·D^−β with D = bias + α/size·S and S the sum of X² over a window of channels. The channel-window sums
/// are 1×1 Convs with a band matrix: dX = dY·D^−β − (2αβ/size)·X·Bandᵀ(dY·X·D^−β−1).
/// </summary>
internal sealed class LrnRule : IBackwardRule
{
    public string OpType => "LRN";

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is not { } dY) return;
        var x = node.Input[0];
        var shape = context.ShapeOf(x);
        var channels = (int)shape[1];
        var size = node.GetInt("size", 1);
        var alpha = node.GetFloat("alpha", 1e-4f);
        var beta = node.GetFloat("beta", 0.75f);
        var bias = node.GetFloat("bias", 1f);
        var before = (size - 1) / 2;
        var after = size - 1 - before;
        var band = new float[channels * channels];
        var bandTransposed = new float[channels * channels];
        for (var c = 0; c < channels; c++)
            for (var other = Math.Max(0, c - before); other <= Math.Min(channels - 1, c + after); other++)
            {
                band[c * channels + other] = 1f;
                bandTransposed[other * channels + c] = 1f;
            }
        long[] kernelDims = [channels, channels, .. Enumerable.Repeat(1L, shape.Length - 2)];
        var windowSum = context.Node("Conv", [context.Node("Mul", [x, x]), context.Floats(kernelDims, band)]);
        var d = context.Node("Add", [context.Node("Mul", [windowSum, context.Scalar(alpha / size)]), context.Scalar(bias)]);
        var direct = context.Node("Mul", [dY, context.Node("Pow", [d, context.Scalar(-beta)])]);
        var inner = context.Node("Mul", [context.Node("Mul", [dY, x]), context.Node("Pow", [d, context.Scalar(-beta - 1f)])]);
        var spread = context.Node("Conv", [inner, context.Floats(kernelDims, bandTransposed)]);
        var cross = context.Node("Mul", [context.Node("Mul", [x, spread]), context.Scalar(2f * alpha * beta / size)]);
        context.Accumulate(x, context.Node("Sub", [direct, cross]));
    }
}

/// <summary>
/// InstanceNormalization, y = scale·x̂ + B with x̂ = (x − μ)/σ̂, σ̂ = √(σ² + ε), μ and the biased σ² over the spatial
/// axes of each (n, c). With g = scale·dY and means over the same axes: dX = (g − mean(g) − x̂·mean(g·x̂)) / σ̂.
/// Means are ReduceSum × 1/count, whose signature is the same at every opset the graph may carry (ReduceMean's is not).
/// </summary>
internal sealed class InstanceNormalizationRule : IBackwardRule
{
    public string OpType => "InstanceNormalization";

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is not { } dY) return;
        if (node.Input.Skip(1).Any(context.NeedsGradient))
            throw new UnsupportedModelException($"InstanceNormalization (node '{node.Describe()}') computes its scale or bias from the input, which Lantern cannot differentiate");
        var x = node.Input[0];
        var shape = context.ShapeOf(x);
        if (shape.Length < 3)
            throw new UnsupportedModelException($"InstanceNormalization (node '{node.Describe()}') has no spatial axes");
        var spatial = context.Ints([.. Enumerable.Range(2, shape.Length - 2).Select(a => (long)a)]);
        var inverseCount = context.Scalar(1f / shape[2..].Aggregate(1L, (a, d) => a * d));
        string Mean(string value) =>
            context.Node("Mul", [context.Node("ReduceSum", [value, spatial], Attributes.Int("keepdims", 1)), inverseCount]);
        var centered = context.Node("Sub", [x, Mean(x)]);
        var variance = Mean(context.Node("Mul", [centered, centered]));
        var inverseDeviation = context.Node("Reciprocal", [context.Node("Sqrt", [context.Node("Add", [variance, context.Scalar(node.GetFloat("epsilon", 1e-5f))])])]);
        var normalised = context.Node("Mul", [centered, inverseDeviation]);
        var scale = context.Node("Unsqueeze", [node.Input[1], context.Ints([.. Enumerable.Range(1, shape.Length - 2).Select(a => (long)a)])]);
        var g = context.Node("Mul", [dY, scale]);
        var projected = context.Node("Mul", [normalised, Mean(context.Node("Mul", [g, normalised]))]);
        var dX = context.Node("Mul", [context.Node("Sub", [context.Node("Sub", [g, Mean(g)]), projected]), inverseDeviation]);
        context.Accumulate(x, dX);
    }
}
