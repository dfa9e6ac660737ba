using Lantern.Gradients.Graph;
using Onnx;

namespace Lantern.Gradients.Rules;

/// <summary>Cast between float types (what is left of a float16 model's casts after conversion): the gradient passes.</summary>
internal sealed class CastRule : IBackwardRule
{
    public string OpType => "Cast";

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is { } dY) context.Accumulate(node.Input[0], dY);
    }
}

/// <summary>Exp: dX = dY·Y.</summary>
internal sealed class ExpRule : IBackwardRule
{
    public string OpType => "Exp";

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is { } dY) context.Accumulate(node.Input[0], context.Node("Mul", [dY, node.Output[0]]));
    }
}

/// <summary>Log: dX = dY / X.</summary>
internal sealed class LogRule : IBackwardRule
{
    public string OpType => "Log";

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is { } dY) context.Accumulate(node.Input[0], context.Node("Div", [dY, node.Input[0]]));
    }
}

/// <summary>Sqrt: dX = dY / (2Y).</summary>
internal sealed class SqrtRule : IBackwardRule
{
    public string OpType => "Sqrt";

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is { } dY)
            context.Accumulate(node.Input[0], context.Node("Div", [dY, context.Node("Mul", [node.Output[0], context.Scalar(2f)])]));
    }
}

/// <summary>Abs: dX = dY·sign(X).</summary>
internal sealed class AbsRule : IBackwardRule
{
    public string OpType => "Abs";

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is { } dY) context.Accumulate(node.Input[0], context.Node("Mul", [dY, context.Node("Sign", [node.Input[0]])]));
    }
}

/// <summary>Pow with a constant exponent p: dX = dY·p·X^(p−1), summed over broadcast axes.</summary>
internal sealed class PowRule : IBackwardRule
{
    public string OpType => "Pow";

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is not { } dY) return;
        if (context.NeedsGradient(node.Input[1]))
            throw new UnsupportedModelException($"Pow (node '{node.Describe()}') has an exponent computed from the input, which Lantern cannot differentiate");
        var (x, p) = (node.Input[0], node.Input[1]);
        var slope = context.Node("Mul", [p, context.Node("Pow", [x, context.Node("Sub", [p, context.Scalar(1f)])])]);
        context.Accumulate(x, context.ReduceToShapeOf(context.Node("Mul", [dY, slope]), context.ShapeOf(node.Output[0]), x));
    }
}

/// <summary>Elu: dX = dY where X &gt; 0, dY·(Y + α) elsewhere.</summary>
internal sealed class EluRule : IBackwardRule
{
    public string OpType => "Elu";

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is not { } dY) return;
        var alpha = node.GetFloat("alpha", 1f);
        var positive = context.Node("Greater", [node.Input[0], context.Scalar(0f)]);
        var negativeSlope = context.Node("Add", [node.Output[0], context.Scalar(alpha)]);
        context.Accumulate(node.Input[0], context.Node("Mul", [dY, context.Node("Where", [positive, context.Scalar(1f), negativeSlope])]));
    }
}

/// <summary>Softplus: dX = dY·sigmoid(X).</summary>
internal sealed class SoftplusRule : IBackwardRule
{
    public string OpType => "Softplus";

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is { } dY)
            context.Accumulate(node.Input[0], context.Node("Mul", [dY, context.Node("Sigmoid", [node.Input[0]])]));
    }
}

/// <summary>PRelu with a constant slope: dX = dY where X &gt; 0, slope·dY elsewhere.</summary>
internal sealed class PReluRule : IBackwardRule
{
    public string OpType => "PRelu";

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is not { } dY) return;
        if (context.NeedsGradient(node.Input[1]))
            throw new UnsupportedModelException($"PRelu (node '{node.Describe()}') has a slope computed from the input, which Lantern cannot differentiate");
        var x = node.Input[0];
        var positive = context.Node("Greater", [x, context.Scalar(0f)]);
        var slope = context.Node("Where", [positive, context.Scalar(1f), node.Input[1]]);
        context.Accumulate(x, context.ReduceToShapeOf(context.Node("Mul", [dY, slope]), context.ShapeOf(node.Output[0]), x));
    }
}

/// <summary>
/// Max and Min (variadic, numpy broadcasting): dY goes to the input that won each element, summed over its broadcast
/// axes; inputs tied for the win share it equally (as PyTorch's max of two does).
/// </summary>
internal sealed class MaxMinRule(string opType) : IBackwardRule
{
    public string OpType => opType;

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is not { } dY) return;
        var y = node.Output[0];
        var outputShape = context.ShapeOf(y);
        var inputs = node.Input.Where(i => i.Length > 0).ToList();
        var wins = inputs.Select(i => context.Node("Cast", [context.Node("Equal", [i, y])], Attributes.Int("to", (long)TensorProto.Types.DataType.Float))).ToList();
        var share = wins.Count == 1 ? dY : context.Node("Div", [dY, context.Node("Sum", wins)]);
        for (var i = 0; i < inputs.Count; i++)
            if (context.NeedsGradient(inputs[i]))
                context.Accumulate(inputs[i], context.ReduceToShapeOf(context.Node("Mul", [share, wins[i]]), outputShape, inputs[i]));
    }
}
