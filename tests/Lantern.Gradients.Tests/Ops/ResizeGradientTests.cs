using Lantern.Gradients.Graph;
using Lantern.Gradients.Rules;
using Lantern.Gradients.Tests.Support;
using Onnx;
using Xunit.Abstractions;

namespace Lantern.Gradients.Tests.Ops;

/// <summary>
/// Resize and Upsample are linear in X, so FD is exact up to rounding. Each case is checked twice: the gradient against
/// central differences of the original model, and the interpolation matrices the rule builds against ONNX Runtime's
/// own forward Resize (Y = A_h · X · A_wᵀ on random input), which catches a coordinate convention that differs from the
/// kernel's even where a gradient check might be forgiving.
/// </summary>
public sealed class ResizeGradientTests(ITestOutputHelper output) : OpCaseTable(output)
{
    private static readonly long[] Shape = [2, 4, 5];

    private static string Scaled(OnnxGraph g, string x, float[] scales, params (string, object)[] attributes) =>
        g.Node("Resize", [x, g.Opset < 13 ? g.Weight("no_roi", [0], []) : "", g.Weight("scales", [scales.Length], scales)], "y", attributes);

    /// <summary>Sizes as PyTorch exports F.interpolate(size=…): Shape(x)[:2] concatenated with the spatial size.</summary>
    private static string Sized(OnnxGraph g, string x, long[] spatial, params (string, object)[] attributes)
    {
        var leading = g.Node("Slice", [g.Node("Shape", [x], "shape"), g.Ints("start", [0]), g.Ints("end", [2])], "leading");
        var sizes = g.Node("Concat", [leading, g.Ints("spatial", spatial)], "sizes", ("axis", 0));
        var scales = g.Opset < 13 ? g.Weight("no_scales", [0], []) : "";
        var roi = g.Opset < 13 ? g.Weight("no_roi", [0], []) : "";
        return g.Node("Resize", [x, roi, scales, sizes], "y", attributes);
    }

    public static readonly OpCase[] Cases =
    [
        OpCase.Of("nearest 2x (defaults: half_pixel, round_prefer_floor)", Shape, (g, x) => Scaled(g, x, [1, 1, 2, 2])),
        OpCase.Of("nearest asymmetric floor 2x3", Shape,
            (g, x) => Scaled(g, x, [1, 1, 2, 3], ("coordinate_transformation_mode", "asymmetric"), ("nearest_mode", "floor"))),
        OpCase.Of("nearest align_corners round_prefer_ceil 1.5x2.5", Shape,
            (g, x) => Scaled(g, x, [1, 1, 1.5f, 2.5f], ("coordinate_transformation_mode", "align_corners"), ("nearest_mode", "round_prefer_ceil"))),
        OpCase.Of("nearest half_pixel halves (ties at .5 prefer floor)", [2, 6, 8], (g, x) => Scaled(g, x, [1, 1, 0.5f, 0.5f])),
        OpCase.Of("nearest half_pixel ceil shrinks", [2, 6, 8],
            (g, x) => Scaled(g, x, [1, 1, 0.5f, 0.75f], ("nearest_mode", "ceil"))),
        OpCase.Of("nearest pytorch_half_pixel floor to sizes", Shape,
            (g, x) => Sized(g, x, [7, 3], ("coordinate_transformation_mode", "pytorch_half_pixel"), ("nearest_mode", "floor"))),
        OpCase.Of("nearest tf_half_pixel_for_nn (opset 11)", Shape,
            (g, x) => Scaled(g, x, [1, 1, 2, 1.5f], ("coordinate_transformation_mode", "tf_half_pixel_for_nn")), opset: 11),
        OpCase.Of("nearest sizes, empty scales (opset 11)", Shape, (g, x) => Sized(g, x, [8, 9]), opset: 11),
        OpCase.Of("nearest only the last axis of a 3-D tensor", [3, 5], (g, x) => Scaled(g, x, [1, 1, 3])),

        OpCase.Of("linear half_pixel 2x", Shape, (g, x) => Scaled(g, x, [1, 1, 2, 2], ("mode", "linear"))),
        OpCase.Of("linear align_corners to sizes", Shape,
            (g, x) => Sized(g, x, [7, 9], ("mode", "linear"), ("coordinate_transformation_mode", "align_corners"))),
        OpCase.Of("linear asymmetric 1.5x", Shape,
            (g, x) => Scaled(g, x, [1, 1, 1.5f, 1.5f], ("mode", "linear"), ("coordinate_transformation_mode", "asymmetric"))),
        OpCase.Of("linear pytorch_half_pixel shrinks to one row", Shape,
            (g, x) => Sized(g, x, [1, 3], ("mode", "linear"), ("coordinate_transformation_mode", "pytorch_half_pixel"))),
        OpCase.Of("linear half_pixel shrinks", [2, 6, 8], (g, x) => Scaled(g, x, [1, 1, 0.5f, 0.75f], ("mode", "linear"))),
        OpCase.Of("linear sizes with axes (opset 18)", Shape, (g, x) =>
            g.Node("Resize", [x, "", "", g.Ints("sizes", [6, 11])], "y", ("mode", "linear"), ("axes", new[] { 2, 3 })), opset: 18),
        OpCase.Of("linear half_pixel_symmetric (opset 19)", Shape,
            (g, x) => Scaled(g, x, [1, 1, 1.7f, 2.3f], ("mode", "linear"), ("coordinate_transformation_mode", "half_pixel_symmetric")), opset: 19),
        OpCase.Of("linear after a Conv, before a Conv (a decoder stage)", Shape, (g, x) =>
        {
            var c = g.Node("Conv", [x, g.Weight("W1", [3, 2, 3, 3])], "c", ("pads", new[] { 1, 1, 1, 1 }));
            var up = g.Node("Resize", [c, "", g.Weight("scales", [4], [1, 1, 2, 2])], "up", ("mode", "linear"));
            return g.Node("Conv", [up, g.Weight("W2", [2, 3, 3, 3])], "y");
        }),

        OpCase.Of("cubic half_pixel 2x (defaults: a = −0.75)", Shape, (g, x) => Scaled(g, x, [1, 1, 2, 2], ("mode", "cubic"))),
        OpCase.Of("cubic align_corners a = −0.5 to sizes", Shape,
            (g, x) => Sized(g, x, [7, 9], ("mode", "cubic"), ("coordinate_transformation_mode", "align_corners"), ("cubic_coeff_a", -0.5f))),
        OpCase.Of("cubic exclude_outside asymmetric 1.5x", Shape, (g, x) =>
            Scaled(g, x, [1, 1, 1.5f, 2.5f], ("mode", "cubic"), ("coordinate_transformation_mode", "asymmetric"), ("exclude_outside", 1))),
        OpCase.Of("cubic pytorch_half_pixel shrinks", [2, 6, 8], (g, x) =>
            Scaled(g, x, [1, 1, 0.5f, 0.75f], ("mode", "cubic"), ("coordinate_transformation_mode", "pytorch_half_pixel"))),

        OpCase.Of("Upsample nearest 2x (opset 9)", Shape, (g, x) => g.Node("Upsample", [x, g.Weight("scales", [4], [1, 1, 2, 2])], "y"), opset: 9),
        OpCase.Of("Upsample nearest 3x2 attribute (opset 7)", Shape,
            (g, x) => g.Node("Upsample", [x], "y", ("scales", new[] { 1f, 1f, 3f, 2f })), opset: 7),
        OpCase.Of("Upsample linear 2x (opset 9)", Shape,
            (g, x) => g.Node("Upsample", [x, g.Weight("scales", [4], [1, 1, 2, 2])], "y", ("mode", "linear")), opset: 9),
        OpCase.Of("Resize nearest shrinks (opset 10)", [2, 6, 8],
            (g, x) => g.Node("Resize", [x, g.Weight("scales", [4], [1, 1, 0.5f, 0.6f])], "y"), opset: 10),
        OpCase.Of("Resize linear 1.5x (opset 10)", Shape,
            (g, x) => g.Node("Resize", [x, g.Weight("scales", [4], [1, 1, 1.5f, 2])], "y", ("mode", "linear")), opset: 10),
    ];

    public static TheoryData<string> Names => NamesOf(Cases);

    [Theory, MemberData(nameof(Names))]
    public void Resize_gradient_matches_finite_differences(string variant) => Check(Cases, variant);

    [Theory, MemberData(nameof(Names))]
    public void Interpolation_matrices_reproduce_the_forward_Resize_of_ONNX_Runtime(string variant)
    {
        var c = Cases.Single(c => c.Name == variant);
        var model = c.Model();
        var prepared = PreparedModel.From(model);
        var shapes = ShapeProbe.Run(prepared, [1, .. c.Input.Shape[1..]]);
        var graph = new GraphIndex(prepared.Model.Graph);
        var resize = prepared.Model.Graph.Node.Single(n => n.OpType == "Resize");
        var x = Inputs.Uniform([1, .. shapes[resize.Input[0]][1..]], seed: 11);
        var outputShape = shapes[resize.Output[0]];
        var matrices = ResizeInterpolation.AxisMatrices(resize, graph, x.Shape, outputShape);

        var original = ModelSurgery.Parse(model);
        var node = original.Graph.Node.Single(n => n.OpType is "Resize" or "Upsample");
        var cut = node.Input[0] == "x" ? model : ModelSurgery.WithTensorAsInput(model, node.Input[0], x.Shape);
        using var ort = new OrtModel(ModelSurgery.WithOutputs(cut, node.Output[0]));
        var inputs = new Dictionary<string, Tensor> { [node.Input[0]] = x };
        if (node.Input[0] != "x") inputs["x"] = Inputs.Uniform([1, .. c.Input.Shape[1..]]);
        var expected = ort.Run(inputs, [node.Output[0]])[node.Output[0]];
        Assert.Equal(outputShape, expected.Shape);

        var actual = Separable(x, matrices, outputShape);
        for (var i = 0; i < actual.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected.Data[i]) <= 1e-5f, $"element {i}: A_h·X·A_wᵀ gives {actual[i]}, ONNX Runtime {expected.Data[i]}");
    }

    /// <summary>A_h · X · A_wᵀ over the last two axes, in double.</summary>
    private static float[] Separable(Tensor x, float[]?[] matrices, long[] outputShape)
    {
        var rank = x.Shape.Length;
        var (hIn, wIn) = ((int)x.Shape[rank - 2], (int)x.Shape[rank - 1]);
        var (hOut, wOut) = ((int)outputShape[rank - 2], (int)outputShape[rank - 1]);
        double H(int o, int i) => matrices[rank - 2] is { } m ? m[o * hIn + i] : o == i ? 1 : 0;
        double W(int o, int i) => matrices[rank - 1] is { } m ? m[o * wIn + i] : o == i ? 1 : 0;
        var planes = x.Data.Length / (hIn * wIn);
        var y = new float[planes * hOut * wOut];
        for (var p = 0; p < planes; p++)
            for (var r = 0; r < hOut; r++)
                for (var q = 0; q < wOut; q++)
                {
                    var sum = 0.0;
                    for (var i = 0; i < hIn; i++)
                        for (var j = 0; j < wIn; j++) sum += H(r, i) * x.Data[p * hIn * wIn + i * wIn + j] * W(q, j);
                    y[(p * hOut + r) * wOut + q] = (float)sum;
                }
        return y;
    }

    [Theory]
    [InlineData("coordinate_transformation_mode", "tf_crop_and_resize", "tf_crop_and_resize")]
    [InlineData("antialias", 1, "antialias")]
    public void An_unsupported_resize_variant_is_refused_naming_the_node(string attribute, object value, string named)
    {
        var g = new OnnxGraph(18);
        var x = g.Input("x", -1, 2, 4, 4);
        var roi = g.Weight("roi", [8], [0, 0, 0.1f, 0.1f, 1, 1, 0.9f, 0.9f]);
        g.Output(g.NodeNamed("decoder_up", "Resize", [x, roi, g.Weight("scales", [4], [1, 1, 0.5f, 0.5f])], ["y"],
            ("mode", "linear"), (attribute, value))[0]);

        var error = Assert.Throws<UnsupportedModelException>(() => GradientModelBuilder.Build(g.Build(), new GradientRequest { GradientOf = ["x"] }));
        Assert.Contains("decoder_up", error.Message);
        Assert.Contains(named, error.Message);
    }

    [Fact]
    public void Resizing_the_channel_axis_is_refused_naming_the_node()
    {
        var g = new OnnxGraph();
        var x = g.Input("x", -1, 2, 4, 4);
        g.Output(g.NodeNamed("channel_up", "Resize", [x, "", g.Weight("scales", [4], [1, 2, 1, 1])], ["y"])[0]);

        var error = Assert.Throws<UnsupportedModelException>(() => GradientModelBuilder.Build(g.Build(), new GradientRequest { GradientOf = ["x"] }));
        Assert.Contains("channel_up", error.Message);
        Assert.Contains("axis 1", error.Message);
    }
}
