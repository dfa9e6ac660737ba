using Lantern.Gradients.Tests.Support;
using Xunit.Abstractions;

namespace Lantern.Gradients.Tests.Ops;

/// <summary>
/// Softmax and LogSoftmax differentiated themselves (TargetBeforeSoftmax = false), including the opset ≤ 12 semantics
/// where the input is coerced to 2-D at the axis; and ReduceMean / ReduceSum with axes as attribute or input.
/// </summary>
public sealed class SoftmaxAndReduceGradientTests(ITestOutputHelper output) : OpCaseTable(output)
{
    private static readonly GradientRequest ThroughSoftmax = new() { TargetBeforeSoftmax = false };

    private static OpCase Soft(string name, string op, long[] shape, int axis, int opset) =>
        OpCase.Of(name, shape, (g, x) => g.Node(op, [x], "y", ("axis", axis)), opset,
            Inputs.Uniform([2, .. shape], low: -2, high: 2), request: ThroughSoftmax);

    public static readonly OpCase[] SoftmaxCases =
    [
        Soft("Softmax axis -1 on [N,3,4]", "Softmax", [3, 4], -1, 13),
        Soft("Softmax axis 1 on [N,5]", "Softmax", [5], 1, 13),
        Soft("Softmax axis 1 on [N,3,4] (opset 13: along axis 1 only)", "Softmax", [3, 4], 1, 13),
        Soft("Softmax axis 1 on [N,3,4] (opset 11: over the flattened 12)", "Softmax", [3, 4], 1, 11),
        Soft("LogSoftmax axis -1", "LogSoftmax", [3, 4], -1, 13),
        Soft("LogSoftmax axis 1 on [N,3,4] (opset 11)", "LogSoftmax", [3, 4], 1, 11),
        Soft("LogSoftmax axis 1 on [N,5]", "LogSoftmax", [5], 1, 17),
    ];

    public static TheoryData<string> SoftmaxNames => NamesOf(SoftmaxCases);

    [Theory, MemberData(nameof(SoftmaxNames))]
    public void Softmax_gradient_matches_finite_differences_when_the_target_is_its_output(string variant) => Check(SoftmaxCases, variant);

    [Fact]
    public void The_target_is_the_softmax_input_by_default_even_behind_shape_ops()
    {
        var g = new OnnxGraph();
        var x = g.Input("x", -1, 5);
        var logits = g.Node("Gemm", [x, g.Weight("W", [5, 4]), g.Weight("C", [4])], "logits");
        var p = g.Node("Softmax", [logits], "p", ("axis", 1));
        g.Output(g.Node("Reshape", [p, g.Ints("shape", [0, 4, 1, 1])], "probabilities"));
        var model = g.Build();

        var gm = GradientModelBuilder.Build(model, new GradientRequest { GradientOf = ["x"] });
        Assert.Equal("logits", gm.TargetTensor);
        Assert.Equal([4L], gm.SeedShape);
        GradientCheck.InputGradient(model, Inputs.Uniform([2, 5]));

        var through = GradientModelBuilder.Build(model, new GradientRequest { GradientOf = ["x"], TargetBeforeSoftmax = false });
        Assert.Equal("probabilities", through.TargetTensor);
        Assert.Equal([4L, 1, 1], through.SeedShape);
        GradientCheck.InputGradient(model, Inputs.Uniform([2, 5]), ThroughSoftmax);
    }

    private static readonly long[] Shape = [3, 4, 5];

    public static readonly OpCase[] ReduceCases =
    [
        OpCase.Of("ReduceMean axes [2,3] keepdims", Shape, (g, x) => g.Node("ReduceMean", [x], "y", ("axes", new[] { 2, 3 }))),
        OpCase.Of("ReduceMean axes [1] keepdims 0", Shape, (g, x) => g.Node("ReduceMean", [x], "y", ("axes", new[] { 1 }), ("keepdims", 0))),
        OpCase.Of("ReduceMean axes input [-1] (opset 18)", Shape, (g, x) => g.Node("ReduceMean", [x, g.Ints("axes", [-1])], "y"), opset: 18),
        OpCase.Of("ReduceMean opset 11", Shape, (g, x) => g.Node("ReduceMean", [x], "y", ("axes", new[] { 2, 3 }), ("keepdims", 0)), opset: 11),
        OpCase.Of("ReduceSum axes input [1,3] keepdims 0", Shape, (g, x) => g.Node("ReduceSum", [x, g.Ints("axes", [1, 3])], "y", ("keepdims", 0))),
        OpCase.Of("ReduceSum axes input [2] keepdims", Shape, (g, x) => g.Node("ReduceSum", [x, g.Ints("axes", [2])], "y")),
        OpCase.Of("ReduceSum attribute (opset 11)", Shape, (g, x) => g.Node("ReduceSum", [x], "y", ("axes", new[] { -2, -1 })), opset: 11),
    ];

    public static TheoryData<string> ReduceNames => NamesOf(ReduceCases);

    [Theory, MemberData(nameof(ReduceNames))]
    public void Reduce_gradient_matches_finite_differences(string variant) => Check(ReduceCases, variant);
}
