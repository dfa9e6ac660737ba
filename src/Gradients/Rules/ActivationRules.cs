using Lantern.Gradients.Graph;
using Onnx;

namespace Lantern.Gradients.Rules;

/// <summary>
/// ReLU: dX = dY where X &gt; 0. Guided backpropagation (Springenberg et al. 2015) also drops negative gradients:
/// dX = ReLU(dY) where X &gt; 0.
/// </summary>
internal sealed class RectifiedLinearRule : IBackwardRule
{
    public string OpType => "Relu";

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is not { } dY) return;
        var positive = context.Node("Greater", [node.Input[0], context.Scalar(0f)]);
        context.Accumulate(node.Input[0], Masked(context, positive, dY));
    }

    /// <summary>dY where <paramref name="mask"/> holds, 0 elsewhere; in guided mode only dY's positive part.</summary>
    public static string Masked(BackwardContext context, string mask, string dY)
    {
        var passed = context.Relu == Gradients.ReluRule.Guided ? context.Node("Relu", [dY]) : dY;
        return context.Node("Where", [mask, passed, context.Scalar(0f)]);
    }
}

/// <summary>LeakyRelu: dX = dY where X &gt; 0, α·dY elsewhere.</summary>
internal sealed class LeakyReluRule : IBackwardRule
{
    public string OpType => "LeakyRelu";

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is not { } dY) return;
        var alpha = node.GetFloat("alpha", 0.01f);
        var positive = context.Node("Greater", [node.Input[0], context.Scalar(0f)]);
        context.Accumulate(node.Input[0], context.Node("Where", [positive, dY, context.Node("Mul", [dY, context.Scalar(alpha)])]));
    }
}

/// <summary>Clip (ReLU6 and friends): dX = dY strictly inside (min, max), as PyTorch's hardtanh; guided like ReLU.</summary>
internal sealed class ClipRule : IBackwardRule
{
    public string OpType => "Clip";

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is not { } dY) return;
        var x = node.Input[0];
        string? mask = null;
        if (node.Input.Count > 1 && node.Input[1].Length > 0) mask = context.Node("Greater", [x, node.Input[1]]);
        if (node.Input.Count > 2 && node.Input[2].Length > 0)
        {
            var belowMax = context.Node("Less", [x, node.Input[2]]);
            mask = mask is null ? belowMax : context.Node("And", [mask, belowMax]);
        }
        if (mask is null)
        {
            context.Accumulate(x, context.Relu == Gradients.ReluRule.Guided ? context.Node("Relu", [dY]) : dY);
            return;
        }
        context.Accumulate(x, RectifiedLinearRule.Masked(context, mask, dY));
    }
}

/// <summary>Sigmoid: dX = dY·Y·(1 − Y).</summary>
internal sealed class SigmoidRule : IBackwardRule
{
    public string OpType => "Sigmoid";

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is not { } dY) return;
        var y = node.Output[0];
        var slope = context.Node("Mul", [y, context.Node("Sub", [context.Scalar(1f), y])]);
        context.Accumulate(node.Input[0], context.Node("Mul", [dY, slope]));
    }
}

/// <summary>Tanh: dX = dY·(1 − Y²).</summary>
internal sealed class TanhRule : IBackwardRule
{
    public string OpType => "Tanh";

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is not { } dY) return;
        var y = node.Output[0];
        var slope = context.Node("Sub", [context.Scalar(1f), context.Node("Mul", [y, y])]);
        context.Accumulate(node.Input[0], context.Node("Mul", [dY, slope]));
    }
}

/// <summary>HardSigmoid, Y = max(0, min(1, αX + β)): dX = α·dY where 0 &lt; αX + β &lt; 1.</summary>
internal sealed class HardSigmoidRule : IBackwardRule
{
    public string OpType => "HardSigmoid";

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is not { } dY) return;
        var alpha = node.GetFloat("alpha", 0.2f);
        var beta = node.GetFloat("beta", 0.5f);
        var linear = context.Node("Add", [context.Node("Mul", [node.Input[0], context.Scalar(alpha)]), context.Scalar(beta)]);
        var inside = context.Node("And", [context.Node("Greater", [linear, context.Scalar(0f)]), context.Node("Less", [linear, context.Scalar(1f)])]);
        context.Accumulate(node.Input[0], context.Node("Where", [inside, context.Node("Mul", [dY, context.Scalar(alpha)]), context.Scalar(0f)]));
    }
}

/// <summary>HardSwish, Y = X·HardSigmoid(X) with α = 1/6, β = 1/2: slope 0 below −3, 1 above 3, (2X + 3)/6 between (as PyTorch).</summary>
internal sealed class HardSwishRule : IBackwardRule
{
    public string OpType => "HardSwish";

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is not { } dY) return;
        var x = node.Input[0];
        var middle = context.Node("Add", [context.Node("Mul", [x, context.Scalar(1f / 3f)]), context.Scalar(0.5f)]);
        var upper = context.Node("Where", [context.Node("Greater", [x, context.Scalar(3f)]), context.Scalar(1f), middle]);
        var slope = context.Node("Where", [context.Node("Less", [x, context.Scalar(-3f)]), context.Scalar(0f), upper]);
        context.Accumulate(x, context.Node("Mul", [dY, slope]));
    }
}

/// <summary>Softmax over one axis (opset 13): dX = Y·(dY − Σ_axis dY·Y).</summary>
internal sealed class SoftmaxRule : IBackwardRule
{
    public string OpType => "Softmax";

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is not { } dY) return;
        var y = node.Output[0];
        var axis = BackwardContext.NormaliseAxis(node.GetInt("axis", -1), context.RankOf(y));
        var dot = context.Node("ReduceSum", [context.Node("Mul", [dY, y]), context.Ints(axis)], Attributes.Int("keepdims", 1));
        context.Accumulate(node.Input[0], context.Node("Mul", [y, context.Node("Sub", [dY, dot])]));
    }
}

/// <summary>LogSoftmax over one axis (opset 13): dX = dY − exp(Y)·Σ_axis dY.</summary>
internal sealed class LogSoftmaxRule : IBackwardRule
{
    public string OpType => "LogSoftmax";

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is not { } dY) return;
        var y = node.Output[0];
        var axis = BackwardContext.NormaliseAxis(node.GetInt("axis", -1), context.RankOf(y));
        var total = context.Node("ReduceSum", [dY, context.Ints(axis)], Attributes.Int("keepdims", 1));
        context.Accumulate(node.Input[0], context.Node("Sub", [dY, context.Node("Mul", [context.Node("Exp", [y]), total])]));
    }
}

/// <summary>Erf: dX = dY·(2/√π)·exp(−X²).</summary>
internal sealed class ErfRule : IBackwardRule
{
    public string OpType => "Erf";

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is not { } dY) return;
        var x = node.Input[0];
        var gauss = context.Node("Exp", [context.Node("Neg", [context.Node("Mul", [x, x])])]);
        context.Accumulate(x, context.Node("Mul", [dY, context.Node("Mul", [gauss, context.Scalar((float)(2 / Math.Sqrt(Math.PI)))])]));
    }
}

/// <summary>
/// Gelu (opset 20). Exact, Y = ½X(1 + erf(X/√2)): slope ½(1 + erf(X/√2)) + X·φ(X), φ the standard normal density.
/// approximate="tanh", Y = ½X(1 + T) with T = tanh(√(2/π)(X + 0.044715X³)): slope ½(1 + T) + ½X(1 − T²)·√(2/π)(1 + 3·0.044715X²).
/// </summary>
internal sealed class GeluRule : IBackwardRule
{
    public string OpType => "Gelu";

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is not { } dY) return;
        var x = node.Input[0];
        string Mul(string a, string b) => context.Node("Mul", [a, b]);
        string Add(string a, string b) => context.Node("Add", [a, b]);
        var square = Mul(x, x);
        string slope;
        if ((node.GetString("approximate") ?? "none") == "tanh")
        {
            var c = (float)Math.Sqrt(2 / Math.PI);
            var inner = Mul(Add(x, Mul(context.Scalar(0.044715f), Mul(square, x))), context.Scalar(c));
            var t = context.Node("Tanh", [inner]);
            var innerSlope = Mul(context.Scalar(c), Add(context.Scalar(1f), Mul(context.Scalar(3 * 0.044715f), square)));
            var tanhSlope = context.Node("Sub", [context.Scalar(1f), Mul(t, t)]);
            slope = Add(Mul(context.Scalar(0.5f), Add(context.Scalar(1f), t)), Mul(Mul(context.Scalar(0.5f), x), Mul(tanhSlope, innerSlope)));
        }
        else
        {
            var cdf = Mul(context.Scalar(0.5f), Add(context.Scalar(1f), context.Node("Erf", [Mul(x, context.Scalar((float)(1 / Math.Sqrt(2))))])));
            var density = Mul(context.Node("Exp", [Mul(square, context.Scalar(-0.5f))]), context.Scalar((float)(1 / Math.Sqrt(2 * Math.PI))));
            slope = Add(cdf, Mul(x, density));
        }
        context.Accumulate(x, Mul(dY, slope));
    }
}
