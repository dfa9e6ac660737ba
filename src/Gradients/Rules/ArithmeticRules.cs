using Onnx;

namespace Lantern.Gradients.Rules;

/// <summary>Add, Sub, Sum (numpy broadcasting): each operand gets ±dY summed over its broadcast axes.</summary>
internal sealed class AddSubRule(string opType) : IBackwardRule
{
    public string OpType => opType;

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is not { } dY) return;
        var outputShape = context.ShapeOf(node.Output[0]);
        for (var i = 0; i < node.Input.Count; i++)
        {
            var operand = node.Input[i];
            if (!context.NeedsGradient(operand)) continue;
            var signed = opType == "Sub" && i == 1 ? context.Node("Neg", [dY]) : dY;
            context.Accumulate(operand, context.ReduceToShapeOf(signed, outputShape, operand));
        }
    }
}

/// <summary>Mul: dA = dY·B, dB = dY·A, each summed over its broadcast axes.</summary>
internal sealed class MulRule : IBackwardRule
{
    public string OpType => "Mul";

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is not { } dY) return;
        var outputShape = context.ShapeOf(node.Output[0]);
        var (a, b) = (node.Input[0], node.Input[1]);
        if (context.NeedsGradient(a)) context.Accumulate(a, context.ReduceToShapeOf(context.Node("Mul", [dY, b]), outputShape, a));
        if (context.NeedsGradient(b)) context.Accumulate(b, context.ReduceToShapeOf(context.Node("Mul", [dY, a]), outputShape, b));
    }
}

/// <summary>Div, Y = A / B: dA = dY / B, dB = −dY·Y / B.</summary>
internal sealed class DivRule : IBackwardRule
{
    public string OpType => "Div";

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is not { } dY) return;
        var outputShape = context.ShapeOf(node.Output[0]);
        var (a, b, y) = (node.Input[0], node.Input[1], node.Output[0]);
        var dYOverB = context.Node("Div", [dY, b]);
        if (context.NeedsGradient(a)) context.Accumulate(a, context.ReduceToShapeOf(dYOverB, outputShape, a));
        if (context.NeedsGradient(b))
            context.Accumulate(b, context.ReduceToShapeOf(context.Node("Neg", [context.Node("Mul", [dYOverB, y])]), outputShape, b));
    }
}

internal sealed class NegRule : IBackwardRule
{
    public string OpType => "Neg";

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is { } dY) context.Accumulate(node.Input[0], context.Node("Neg", [dY]));
    }
}
