using Lantern.Gradients.Tests.Support;
using Xunit.Abstractions;

namespace Lantern.Gradients.Tests.Ops;

/// <summary>
/// Ops that move, copy or drop elements. With a random seed over every output element the input gradient is the seed
/// routed back, so a mis-routed element shows up in the coordinate and direction probes.
/// </summary>
public sealed class ShapeGradientTests(ITestOutputHelper output) : OpCaseTable(output)
{
    private static readonly long[] Shape = [3, 4, 5];

    public static readonly OpCase[] Cases =
    [
        OpCase.Of("Concat axis 1 of x and c⊙x", Shape, (g, x) => g.Node("Concat", [x, g.Node("Mul", [x, g.Weight("c", [3, 1, 1])], "cx")], "y", ("axis", 1))),
        OpCase.Of("Concat axis -1 of unequal parts", Shape,
            (g, x) => g.Node("Concat", [g.Node("ReduceMean", [x], "m", ("axes", new[] { 3 })), x], "y", ("axis", -1))),
        OpCase.Of("Concat of x with itself", Shape, (g, x) => g.Node("Concat", [x, x], "y", ("axis", 2))),
        OpCase.Of("Concat opset 9", Shape, (g, x) => g.Node("Concat", [x, g.Node("Mul", [x, x], "xx")], "y", ("axis", 1)), opset: 9),

        OpCase.Of("Split sizes input [1,2], outputs swapped", Shape, (g, x) =>
        {
            var parts = g.Node("Split", [x, g.Ints("sizes", [1, 2])], ["a", "b"], ("axis", 1));
            return g.Node("Concat", [parts[1], g.Node("Mul", [parts[0], g.Scalar("k", 3f)], "a3")], "y", ("axis", 1));
        }),
        OpCase.Of("Split equal parts, one output unused", Shape, (g, x) => g.Node("Split", [x], ["a", "b", "c"], ("axis", 1))[1]),
        OpCase.Of("Split attribute (opset 11)", Shape, (g, x) =>
        {
            var parts = g.Node("Split", [x], ["a", "b"], ("axis", 2), ("split", new[] { 3, 1 }));
            return g.Node("Mul", [parts[0], g.Node("ReduceSum", [parts[1]], "bs", ("axes", new[] { 2 }), ("keepdims", 1))], "y");
        }, opset: 11),
        OpCase.Of("Split num_outputs (opset 18)", Shape, (g, x) =>
        {
            var parts = g.Node("Split", [x], ["a", "b"], ("axis", 3), ("num_outputs", 2));
            return g.Node("Concat", [parts[1], parts[0]], "y", ("axis", 3));
        }, opset: 18),

        OpCase.Of("Slice negative starts and large ends", Shape, (g, x) => g.Node("Slice",
            [x, g.Ints("starts", [1, -4]), g.Ints("ends", [4, 100]), g.Ints("axes", [2, 3])], "y")),
        OpCase.Of("Slice with unit steps and a negative axis", Shape, (g, x) => g.Node("Slice",
            [x, g.Ints("starts", [0, 1]), g.Ints("ends", [-1, 3]), g.Ints("axes", [-1, 1]), g.Ints("steps", [1, 1])], "y")),
        OpCase.Of("Slice step 2 on H and -1 on W", Shape, (g, x) => g.Node("Slice",
            [x, g.Ints("starts", [0, -1]), g.Ints("ends", [100, -100]), g.Ints("axes", [2, 3]), g.Ints("steps", [2, -1])], "y")),
        OpCase.Of("Slice step 3 from 1 (reads 1 and 4 of 5)", Shape, (g, x) => g.Node("Slice",
            [x, g.Ints("starts", [1]), g.Ints("ends", [5]), g.Ints("axes", [3]), g.Ints("steps", [3])], "y")),
        OpCase.Of("Slice step -2 from the end", Shape, (g, x) => g.Node("Slice",
            [x, g.Ints("starts", [-1]), g.Ints("ends", [long.MinValue]), g.Ints("axes", [2]), g.Ints("steps", [-2])], "y")),
        OpCase.Of("Slice step -3 on W with a unit-step crop of the channels", Shape, (g, x) => g.Node("Slice",
            [x, g.Ints("starts", [1, 4]), g.Ints("ends", [3, 0]), g.Ints("axes", [1, -1]), g.Ints("steps", [1, -3])], "y")),
        OpCase.Of("Slice step 2 of x added to a step -2 slice of x", Shape, (g, x) => g.Node("Add",
        [
            g.Node("Slice", [x, g.Ints("s1", [0]), g.Ints("e1", [100]), g.Ints("a1", [3]), g.Ints("t1", [2])], "even"),
            g.Node("Slice", [x, g.Ints("s2", [100]), g.Ints("e2", [-100]), g.Ints("a2", [3]), g.Ints("t2", [-2])], "odd_reversed"),
        ], "y")),
        OpCase.Of("Slice attributes (opset 9)", Shape, (g, x) => g.Node("Slice", [x], "y",
            ("starts", new[] { 1, 0 }), ("ends", new[] { 3, -1 }), ("axes", new[] { 1, 3 })), opset: 9),

        OpCase.Of("Reshape [0,-1]", Shape, (g, x) => g.Node("Reshape", [x, g.Ints("shape", [0, -1])], "y")),
        OpCase.Of("Reshape [0,12,5] then scale", Shape,
            (g, x) => g.Node("Mul", [g.Node("Reshape", [x, g.Ints("shape", [0, 12, 5])], "r"), g.Weight("c", [12, 1])], "y")),
        OpCase.Of("Flatten axis 1", Shape, (g, x) => g.Node("Flatten", [x], "y", ("axis", 1))),
        OpCase.Of("Flatten opset 9 then Gemm", Shape,
            (g, x) => g.Node("Gemm", [g.Node("Flatten", [x], "f"), g.Weight("W", [60, 4]), g.Weight("C", [4])], "y"), opset: 9),
        OpCase.Of("Transpose [0,2,3,1]", Shape, (g, x) => g.Node("Transpose", [x], "y", ("perm", new[] { 0, 2, 3, 1 }))),
        OpCase.Of("Transpose [0,3,1,2]", Shape, (g, x) => g.Node("Transpose", [x], "y", ("perm", new[] { 0, 3, 1, 2 }))),

        OpCase.Of("Squeeze axes input", [1, 3, 1], (g, x) => g.Node("Squeeze", [x, g.Ints("axes", [1, 3])], "y")),
        OpCase.Of("Squeeze attribute (opset 11)", [1, 3, 1], (g, x) => g.Node("Squeeze", [x], "y", ("axes", new[] { -1 })), opset: 11),
        // Without axes Squeeze drops every 1-dim, the batch too at batch 1: the builder makes the non-batch axes explicit.
        OpCase.Of("Squeeze without axes, then Reshape [-1,3], at batch 1", [1, 3, 1], SqueezeAllThenRows, input: Inputs.Uniform([1, 1, 3, 1])),
        OpCase.Of("Squeeze without axes, then Reshape [-1,3], at batch 2", [1, 3, 1], SqueezeAllThenRows),
        OpCase.Of("Squeeze without axes (opset 11) at batch 1", [1, 3, 1], SqueezeAllThenRows, opset: 11, input: Inputs.Uniform([1, 1, 3, 1])),
        OpCase.Of("Squeeze without axes as the target", [1, 3, 1], (g, x) => g.Node("Squeeze", [g.Node("Mul", [x, x], "xx")], "y")),
        OpCase.Of("Squeeze without axes behind another, then Gemm", [1, 3, 1], (g, x) =>
        {
            var once = g.Node("Squeeze", [g.Node("Unsqueeze", [x, g.Ints("axes", [2])], "u")], "s1");
            return g.Node("Gemm", [g.Node("Squeeze", [g.Node("Unsqueeze", [once, g.Ints("axes2", [1])], "u2")], "s2"), g.Weight("W", [3, 4])], "y");
        }),
        OpCase.Of("Unsqueeze axes input [1,-1]", [3, 4], (g, x) => g.Node("Unsqueeze", [x, g.Ints("axes", [1, -1])], "y")),
        OpCase.Of("Unsqueeze attribute (opset 11)", [3, 4], (g, x) => g.Node("Unsqueeze", [x], "y", ("axes", new[] { 2 })), opset: 11),

        OpCase.Of("Identity", Shape, (g, x) => g.Node("Mul", [g.Node("Identity", [x], "i"), x], "y")),
        OpCase.Of("Dropout (inference)", Shape, (g, x) => g.Node("Mul", [g.Node("Dropout", [x], "d"), g.Weight("c", [5])], "y")),
        OpCase.Of("Dropout with mask output", Shape, (g, x) => g.Node("Dropout", [x], ["y", "mask"])[0]),
        OpCase.Of("Dropout ratio attribute (opset 9)", Shape, (g, x) => g.Node("Dropout", [x], "y", ("ratio", 0.3f)), opset: 9),

        OpCase.Of("Pad constant with constant_value", Shape, (g, x) => g.Node("Pad",
            [x, g.Ints("pads", [0, 0, 1, 2, 0, 0, 2, 1]), g.Scalar("value", 0.5f)], "y")),
        OpCase.Of("Pad negative (crops)", Shape, (g, x) => g.Node("Pad", [x, g.Ints("pads", [0, 0, -1, 1, 0, 0, 0, -2])], "y")),
        OpCase.Of("Pad attribute (opset 9)", Shape, (g, x) => g.Node("Pad", [x], "y", ("pads", new[] { 0, 1, 1, 0, 0, 0, 1, 2 }), ("value", -1f)), opset: 9),
        OpCase.Of("Pad axes input (opset 18)", Shape, (g, x) => g.Node("Pad",
            [x, g.Ints("pads", [1, 0, 2, 1]), "", g.Ints("axes", [2, 3])], "y"), opset: 18),

        OpCase.Of("Pad edge", Shape, (g, x) => g.Node("Pad", [x, g.Ints("pads", [0, 0, 2, 1, 0, 0, 1, 3])], "y", ("mode", "edge"))),
        OpCase.Of("Pad edge one side, longer than the axis", Shape, (g, x) => g.Node("Pad", [x, g.Ints("pads", [0, 1, 0, 6, 0, 0, 0, 0])], "y", ("mode", "edge"))),
        OpCase.Of("Pad reflect", Shape, (g, x) => g.Node("Pad", [x, g.Ints("pads", [0, 0, 2, 1, 0, 0, 3, 4])], "y", ("mode", "reflect"))),
        OpCase.Of("Pad reflect 1 on every side (as a ReflectionPad2d)", Shape,
            (g, x) => g.Node("Pad", [x, g.Ints("pads", [0, 0, 1, 1, 0, 0, 1, 1])], "y", ("mode", "reflect"))),
        OpCase.Of("Pad reflect on the channels", Shape, (g, x) => g.Node("Pad", [x, g.Ints("pads", [0, 2, 0, 0, 0, 1, 0, 0])], "y", ("mode", "reflect"))),
        OpCase.Of("Pad reflect attribute (opset 9)", Shape, (g, x) => g.Node("Pad", [x], "y", ("pads", new[] { 0, 0, 1, 2, 0, 0, 3, 0 }), ("mode", "reflect")), opset: 9),
        OpCase.Of("Pad edge axes input (opset 18)", Shape, (g, x) => g.Node("Pad",
            [x, g.Ints("pads", [2, 0, 1, 3]), "", g.Ints("axes", [-1, 2])], "y", ("mode", "edge")), opset: 18),
        OpCase.Of("Gather axis 1, index 2 read twice", Shape, (g, x) => g.Node("Gather", [x, g.Ints("indices", [2, 0, 2])], "y", ("axis", 1))),
        OpCase.Of("Gather axis -1, negative indices (−5 and 0 both read)", Shape,
            (g, x) => g.Node("Gather", [x, g.Ints("indices", [-1, 1, -5, 0])], "y", ("axis", -1))),
        OpCase.Of("Gather scalar index drops the axis", Shape, (g, x) => g.Node("Gather", [x, g.Ints("index", [-2], scalar: true)], "y", ("axis", 2))),
        OpCase.Of("Gather 2-D indices along axis 2, repeats", Shape,
            (g, x) => g.Node("Gather", [x, g.Tensor(Int64s("indices", [2, 3], [3, 0, 3, 1, 3, -4]))], "y", ("axis", 2))),
        OpCase.Of("Gather then Mul by x (two paths into x)", Shape,
            (g, x) => g.Node("Mul", [g.Node("Gather", [x, g.Ints("indices", [1, 1, 0])], "gx", ("axis", 1)), x], "y")),
        OpCase.Of("Gather opset 11", Shape, (g, x) => g.Node("Gather", [x, g.Ints("indices", [4, 4, -3])], "y", ("axis", 3)), opset: 11),
        OpCase.Of("PyTorch flatten: Shape→Gather→Unsqueeze→Concat→Reshape", Shape, PyTorchFlatten),
        OpCase.Of("PyTorch flatten, opset 11 (Unsqueeze attribute)", Shape, PyTorchFlatten, opset: 11),
    ];

    private static Onnx.TensorProto Int64s(string name, long[] dims, long[] values)
    {
        var tensor = new Onnx.TensorProto { Name = name, DataType = (int)Onnx.TensorProto.Types.DataType.Int64 };
        tensor.Dims.AddRange(dims);
        tensor.Int64Data.AddRange(values);
        return tensor;
    }

    [Fact]
    public void Gather_along_the_batch_axis_is_refused_naming_the_node()
    {
        var g = new OnnxGraph();
        var x = g.Input("x", -1, 3);
        g.Output(g.NodeNamed("first_example", "Gather", [x, g.Ints("zero", [0])], ["y"], ("axis", 0))[0]);

        var error = Assert.Throws<UnsupportedModelException>(() => GradientModelBuilder.Build(g.Build(), new GradientRequest { GradientOf = ["x"] }));
        Assert.Contains("first_example", error.Message);
        Assert.Contains("batch axis", error.Message);
    }

    private static string SqueezeAllThenRows(OnnxGraph g, string x) =>
        g.Node("Reshape", [g.Node("Squeeze", [g.Node("Mul", [x, g.Weight("c", [1, 3, 1])], "a")], "s"), g.Ints("rows", [-1, 3])], "y");

    [Fact]
    public void A_squeeze_without_axes_keeps_the_batch_so_the_gradient_model_takes_any_batch()
    {
        var g = new OnnxGraph();
        var x = g.Input("x", -1, 1, 3, 1);
        g.Output(SqueezeAllThenRows(g, x));
        var gm = GradientModelBuilder.Build(g.Build(), new GradientRequest { GradientOf = ["x"] });
        Assert.False(gm.BatchIsFixed);
        Assert.Equal([3L], gm.SeedShape);
        Assert.Equal([1L, 3, 1], gm.Shapes["x"]);
    }

    /// <summary>torch.flatten(x, 1) as exported: the batch size read from Shape(x) feeds the Reshape's target shape.</summary>
    private static string PyTorchFlatten(OnnxGraph g, string x)
    {
        var a = g.Node("Mul", [x, g.Weight("c", [3, 1, 1])], "a");
        var shape = g.Node("Shape", [a], "shape");
        var batch = g.Node("Gather", [shape, g.Ints("zero", [0], scalar: true)], "batch", ("axis", 0));
        var unsqueezed = g.Opset >= 13
            ? g.Node("Unsqueeze", [batch, g.Ints("unsqueeze_axes", [0])], "batch1")
            : g.Node("Unsqueeze", [batch], "batch1", ("axes", new[] { 0 }));
        var target = g.Node("Concat", [unsqueezed, g.Ints("minus_one", [-1])], "target_shape", ("axis", 0));
        var flat = g.Node("Reshape", [a, target], "flat");
        return g.Node("Gemm", [flat, g.Weight("W", [60, 4]), g.Weight("C", [4])], "y");
    }

    public static TheoryData<string> Names => NamesOf(Cases);

    [Theory, MemberData(nameof(Names))]
    public void Shape_op_gradient_matches_finite_differences(string variant) => Check(Cases, variant);
}
