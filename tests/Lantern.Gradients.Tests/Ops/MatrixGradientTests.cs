using Lantern.Gradients.Tests.Support;
using Xunit.Abstractions;

namespace Lantern.Gradients.Tests.Ops;

/// <summary>Gemm and MatMul, with the activation as either operand, transposes, scaling and broadcasting.</summary>
public sealed class MatrixGradientTests(ITestOutputHelper output) : OpCaseTable(output)
{
    private static string T(OnnxGraph g, string x, string name) => g.Node("Transpose", [x], name, ("perm", new[] { 1, 0 }));

    public static readonly OpCase[] GemmCases =
    [
        OpCase.Of("x·W + bias[3]", [5], (g, x) => g.Node("Gemm", [x, g.Weight("W", [5, 3]), g.Weight("C", [3])], "y")),
        OpCase.Of("transB", [5], (g, x) => g.Node("Gemm", [x, g.Weight("W", [3, 5]), g.Weight("C", [3])], "y", ("transB", 1))),
        OpCase.Of("alpha 0.5 beta 2 bias [1,3]", [5],
            (g, x) => g.Node("Gemm", [x, g.Weight("W", [5, 3]), g.Weight("C", [1, 3])], "y", ("alpha", 0.5f), ("beta", 2f))),
        OpCase.Of("bias [1] broadcast", [5], (g, x) => g.Node("Gemm", [x, g.Weight("W", [5, 3]), g.Weight("C", [1])], "y")),
        OpCase.Of("no bias", [5], (g, x) => g.Node("Gemm", [x, g.Weight("W", [5, 3])], "y", ("alpha", 1.5f))),
        OpCase.Of("transA on the activation", [5], (g, x) => g.Node("Gemm", [T(g, x, "xt"), g.Weight("W", [5, 3]), g.Weight("C", [3])], "y", ("transA", 1))),
        OpCase.Of("activation as B", [5],
            (g, x) => T(g, g.Node("Gemm", [g.Weight("A", [3, 5]), T(g, x, "xt"), g.Weight("C", [3, 1])], "yt"), "y")),
        OpCase.Of("activation as B with transB and alpha", [5],
            (g, x) => T(g, g.Node("Gemm", [g.Weight("A", [3, 5]), x], "yt", ("transB", 1), ("alpha", -0.7f)), "y")),
        // x·xᵀ is [N,N], so no per-row seed shape exists; the builder may fix the batch at 1: checked with N = 1.
        OpCase.Of("both operands the activation (x·xᵀ)", [5], (g, x) => g.Node("Gemm", [x, x], "y", ("transB", 1)), input: Inputs.Uniform([1, 5])),
        OpCase.Of("opset 9", [5], (g, x) => g.Node("Gemm", [x, g.Weight("W", [3, 5]), g.Weight("C", [3])], "y", ("transB", 1), ("beta", 0.5f)), opset: 9),
    ];

    public static TheoryData<string> GemmNames => NamesOf(GemmCases);

    [Theory, MemberData(nameof(GemmNames))]
    public void Gemm_input_gradient_matches_finite_differences(string variant) => Check(GemmCases, variant);

    public static readonly OpCase[] MatMulCases =
    [
        OpCase.Of("2-D x·W", [5], (g, x) => g.Node("MatMul", [x, g.Weight("W", [5, 3])], "y")),
        OpCase.Of("3-D x·W, W broadcast", [3, 4], (g, x) => g.Node("MatMul", [x, g.Weight("W", [4, 5])], "y")),
        OpCase.Of("4-D x·W[3,5,2] broadcast over the batch", [3, 4, 5], (g, x) => g.Node("MatMul", [x, g.Weight("W", [3, 5, 2])], "y")),
        OpCase.Of("W·x with the constant first", [4, 5], (g, x) => g.Node("MatMul", [g.Weight("W", [3, 4]), x], "y")),
        OpCase.Of("vector·x: w[4]·x[N,3,4,5]", [3, 4, 5], (g, x) => g.Node("MatMul", [g.Weight("w", [4]), x], "y")),
        OpCase.Of("x·vector: x[N,3,5]·w[5]", [3, 5], (g, x) => g.Node("MatMul", [x, g.Weight("w", [5])], "y")),
        OpCase.Of("x·vector to one score per row: x[N,5]·w[5]", [5], (g, x) => g.Node("MatMul", [x, g.Weight("w", [5])], "y")),
        OpCase.Of("vector·x on 2-D rows, then scaled", [4, 5], (g, x) =>
            g.Node("Mul", [g.Node("MatMul", [g.Weight("w", [4]), x], "v"), g.Weight("c", [5])], "y")),
        OpCase.Of("batched x·xᵀ", [3, 4], (g, x) => g.Node("MatMul", [x, g.Node("Transpose", [x], "xt", ("perm", new[] { 0, 2, 1 }))], "y")),
        OpCase.Of("activation·activation broadcasting [N,3,4,5]·[N,1,5,4]", [3, 4, 5], (g, x) =>
        {
            var m = g.Node("ReduceMean", [x], "m", ("axes", new[] { 1 }), ("keepdims", 1));
            return g.Node("MatMul", [x, g.Node("Transpose", [m], "mt", ("perm", new[] { 0, 1, 3, 2 }))], "y");
        }),
    ];

    public static TheoryData<string> MatMulNames => NamesOf(MatMulCases);

    [Theory, MemberData(nameof(MatMulNames))]
    public void MatMul_input_gradient_matches_finite_differences(string variant) => Check(MatMulCases, variant);
}
