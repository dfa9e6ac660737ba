using Lantern.Gradients.Tests.Support;
using Xunit.Abstractions;

namespace Lantern.Gradients.Tests.Ops;

/// <summary>
/// Pointwise activations. Piecewise ones (Relu, LeakyRelu, Clip, HardSigmoid, HardSwish) run on the grid input, whose
/// values are 0.05 away from every multiple of 0.1 where these ops put their kinks (0, Clip bounds, ±2.5, ±3, −0.8,
/// 1.2), so a central difference with h = 0.01 stays on one linear piece.
/// </summary>
public sealed class ActivationGradientTests(ITestOutputHelper output) : OpCaseTable(output)
{
    private static readonly long[] Shape = [3, 4, 5];

    public static readonly OpCase[] Cases =
    [
        OpCase.OnGrid("Relu", Shape, (g, x) => g.Node("Relu", [x], "y")),
        OpCase.OnGrid("Relu opset 9", Shape, (g, x) => g.Node("Relu", [x], "y"), opset: 9),
        OpCase.OnGrid("LeakyRelu default alpha", Shape, (g, x) => g.Node("LeakyRelu", [x], "y")),
        OpCase.OnGrid("LeakyRelu alpha 0.2", Shape, (g, x) => g.Node("LeakyRelu", [x], "y", ("alpha", 0.2f))),
        OpCase.OnGrid("Clip min and max inputs (opset 11)", Shape,
            (g, x) => g.Node("Clip", [x, g.Scalar("lo", -0.5f), g.Scalar("hi", 0.7f)], "y"), opset: 11),
        OpCase.OnGrid("Clip min input only (opset 13)", Shape, (g, x) => g.Node("Clip", [x, g.Scalar("lo", -0.3f)], "y"), opset: 13),
        OpCase.OnGrid("Clip max input only (opset 13)", Shape, (g, x) => g.Node("Clip", [x, "", g.Scalar("hi", 0.6f)], "y"), opset: 13),
        OpCase.OnGrid("Clip 0..6 as ReLU6 (opset 12)", Shape, (g, x) => g.Node("Clip", [x, g.Scalar("lo", 0f), g.Scalar("hi", 6f)], "y"), opset: 12),
        OpCase.OnGrid("Clip without bounds", Shape, (g, x) => g.Node("Clip", [x], "y")),
        OpCase.OnGrid("Clip min/max attributes (opset 9)", Shape, (g, x) => g.Node("Clip", [x], "y", ("min", -0.4f), ("max", 0.9f)), opset: 9),
        OpCase.Of("Sigmoid", Shape, (g, x) => g.Node("Sigmoid", [x], "y"), input: Inputs.Uniform([2, .. Shape], low: -3, high: 3)),
        OpCase.Of("Tanh", Shape, (g, x) => g.Node("Tanh", [x], "y"), input: Inputs.Uniform([2, .. Shape], low: -2, high: 2)),
        OpCase.Of("Tanh opset 9", Shape, (g, x) => g.Node("Tanh", [x], "y"), opset: 9),
        OpCase.Of("Sigmoid opset 9", Shape, (g, x) => g.Node("Sigmoid", [x], "y"), opset: 9),
        OpCase.OnGrid("HardSigmoid default alpha 0.2 beta 0.5", Shape, (g, x) => g.Node("HardSigmoid", [x], "y")),
        OpCase.OnGrid("HardSigmoid alpha 0.5 beta 0.4", Shape, (g, x) => g.Node("HardSigmoid", [x], "y", ("alpha", 0.5f), ("beta", 0.4f))),
        OpCase.OnGrid("HardSwish", Shape, (g, x) => g.Node("HardSwish", [x], "y")),
        OpCase.Of("Erf", Shape, (g, x) => g.Node("Erf", [x], "y"), input: Inputs.Uniform([2, .. Shape], low: -2, high: 2)),
        OpCase.Of("Gelu as PyTorch exports it before opset 20 (Erf)", Shape, (g, x) =>
        {
            var erf = g.Node("Erf", [g.Node("Div", [x, g.Scalar("sqrt2", MathF.Sqrt(2))], "scaled")], "erf");
            var half = g.Node("Mul", [x, g.Node("Add", [erf, g.Scalar("one", 1f)], "cdf2")], "x_cdf2");
            return g.Node("Mul", [half, g.Scalar("half", 0.5f)], "y");
        }, input: Inputs.Uniform([2, .. Shape], low: -3, high: 3)),
        OpCase.Of("Gelu (opset 20)", Shape, (g, x) => g.Node("Gelu", [x], "y"), opset: 20, input: Inputs.Uniform([2, .. Shape], low: -3, high: 3)),
        OpCase.Of("Gelu approximate tanh (opset 20)", Shape, (g, x) => g.Node("Gelu", [x], "y", ("approximate", "tanh")), opset: 20,
            input: Inputs.Uniform([2, .. Shape], low: -3, high: 3)),
    ];

    public static TheoryData<string> Names => NamesOf(Cases);

    [Theory, MemberData(nameof(Names))]
    public void Activation_gradient_matches_finite_differences(string variant) => Check(Cases, variant);
}
