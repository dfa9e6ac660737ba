using Lantern.Gradients.Graph;
using Onnx;

namespace Lantern.Gradients.Rules;

/// <summary>
/// Gemm, Y = α·A'·B' + β·C with A' = transA ? Aᵀ : A (B' likewise). The input gradients are Gemms themselves:
/// dA' = α·dY·B'ᵀ and dB' = α·A'ᵀ·dY, transposed back when the input was.
/// </summary>
internal sealed class GemmRule : IBackwardRule
{
    public string OpType => "Gemm";

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is not { } dY) return;
        var alpha = node.GetFloat("alpha", 1f);
        var beta = node.GetFloat("beta", 1f);
        var transA = node.GetInt("transA", 0);
        var transB = node.GetInt("transB", 0);
        var (a, b) = (node.Input[0], node.Input[1]);
        if (context.NeedsGradient(a))
            context.Accumulate(a, transA == 0
                ? Gemm(context, dY, b, alpha, 0, 1 - transB)
                : Gemm(context, b, dY, alpha, transB, 1));
        if (context.NeedsGradient(b))
            context.Accumulate(b, transB == 0
                ? Gemm(context, a, dY, alpha, 1 - transA, 0)
                : Gemm(context, dY, a, alpha, 1, transA));
        if (node.Input.Count > 2 && context.NeedsGradient(node.Input[2]))
        {
            var scaled = beta == 1f ? dY : context.Node("Mul", [dY, context.Scalar(beta)]);
            context.Accumulate(node.Input[2], context.ReduceToShapeOf(scaled, context.ShapeOf(node.Output[0]), node.Input[2]));
        }
    }

    private static string Gemm(BackwardContext context, string a, string b, float alpha, long transA, long transB) =>
        context.Node("Gemm", [a, b], Attributes.Float("alpha", alpha), Attributes.Int("transA", transA), Attributes.Int("transB", transB));
}

/// <summary>
/// MatMul (N-D, broadcast batch dims): dA = dY·Bᵀ, dB = Aᵀ·dY over the last two axes, summed over broadcast axes.
/// A 1-D operand is promoted as numpy does, A [K] to [1, K] and B [K] to [K, 1], and dY gets the axis the product
/// dropped back; the operand's gradient is reshaped back to 1-D.
/// </summary>
internal sealed class MatMulRule : IBackwardRule
{
    public string OpType => "MatMul";

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is not { } dY) return;
        var (a, b) = (node.Input[0], node.Input[1]);
        var shapeA = context.ShapeOf(a);
        var shapeB = context.ShapeOf(b);
        if (shapeA.Length == 1 && shapeB.Length == 1)
            throw new UnsupportedModelException($"MatMul (node '{node.Describe()}') is a dot product of two vectors, which Lantern cannot differentiate");
        var outputShape = context.ShapeOf(node.Output[0]);
        var (matrixA, matrixB) = (a, b);
        if (shapeA.Length == 1)
        {
            matrixA = context.Node("Unsqueeze", [a, context.Ints(0)]);
            shapeA = [1, shapeA[0]];
            dY = context.Node("Unsqueeze", [dY, context.Ints(-2)]);
            outputShape = [.. outputShape[..^1], 1, outputShape[^1]];
        }
        if (shapeB.Length == 1)
        {
            matrixB = context.Node("Unsqueeze", [b, context.Ints(1)]);
            shapeB = [shapeB[0], 1];
            dY = context.Node("Unsqueeze", [dY, context.Ints(-1)]);
            outputShape = [.. outputShape, 1];
        }
        if (context.NeedsGradient(a))
        {
            var dA = context.Node("MatMul", [dY, SwapLastAxes(context, matrixB, shapeB.Length)]);
            context.Accumulate(a, context.ReduceToShapeOf(dA, [.. outputShape[..^2], shapeA[^2], shapeA[^1]], a));
        }
        if (context.NeedsGradient(b))
        {
            var dB = context.Node("MatMul", [SwapLastAxes(context, matrixA, shapeA.Length), dY]);
            context.Accumulate(b, context.ReduceToShapeOf(dB, [.. outputShape[..^2], shapeB[^2], shapeB[^1]], b));
        }
    }

    private static string SwapLastAxes(BackwardContext context, string tensor, int rank)
    {
        var perm = Enumerable.Range(0, rank).Select(i => (long)i).ToArray();
        (perm[^1], perm[^2]) = (perm[^2], perm[^1]);
        return context.Node("Transpose", [tensor], Attributes.Ints("perm", perm));
    }
}
