using Lantern.Gradients.Tests.Support;
using Onnx;

namespace Lantern.Gradients.Tests;

/// <summary>What cannot be differentiated is refused with a message that names what to change.</summary>
public sealed class UnsupportedModelTests
{
    private static GradientRequest InputGradient => new() { GradientOf = ["x"] };

    [Fact]
    public void An_op_without_a_rule_on_the_path_is_named_with_its_node()
    {
        var g = new OnnxGraph();
        var x = g.Input("x", -1, 4);
        var h = g.Node("MatMul", [x, g.Weight("W", [4, 3])], "h");
        var e = g.NodeNamed("periodic_sin", "Sin", [h], ["e"])[0];
        g.Output(g.Node("Mul", [e, h], "y"));

        var error = Assert.Throws<UnsupportedModelException>(() => GradientModelBuilder.Build(g.Build(), InputGradient));
        Assert.Contains("Sin", error.Message);
        Assert.Contains("periodic_sin", error.Message);
    }

    /// <summary>A custom-domain op is refused even where an ai.onnx op of the same name has a rule: its meaning is its domain's.</summary>
    [Fact]
    public void A_custom_domain_op_named_like_a_supported_one_is_named_with_its_node()
    {
        var g = new OnnxGraph(13);
        var x = g.Input("x", -1, 2, 3, 3);
        var up = g.NodeIn("com.example.vision", "upsample_1", "Resize", [x, "", g.Weight("scales", [4], [1f, 1f, 2f, 2f])], ["up"], ("mode", "nearest"))[0];
        g.Output(g.Node("ReduceSum", [up, g.Ints("axes", [2, 3])], "y", ("keepdims", 0)));

        var error = Assert.Throws<UnsupportedModelException>(() => GradientModelBuilder.Build(g.Build(), InputGradient));
        Assert.Contains("Resize", error.Message);
        Assert.Contains("upsample_1", error.Message);
    }

    private static byte[] Small()
    {
        var g = new OnnxGraph();
        var x = g.Input("x", -1, 4);
        g.Output(g.Node("Relu", [g.Node("MatMul", [x, g.Weight("W", [4, 3])], "h")], "y"));
        return g.Build();
    }

    [Fact]
    public void An_unknown_tensor_to_differentiate_is_named()
    {
        var error = Assert.Throws<UnsupportedModelException>(() =>
            GradientModelBuilder.Build(Small(), new GradientRequest { GradientOf = ["x", "no_such_tensor"] }));
        Assert.Contains("no_such_tensor", error.Message);
    }

    [Fact]
    public void An_unknown_tensor_to_output_is_named()
    {
        var error = Assert.Throws<UnsupportedModelException>(() =>
            GradientModelBuilder.Build(Small(), new GradientRequest { GradientOf = ["x"], ValuesOf = ["feature_map_7"] }));
        Assert.Contains("feature_map_7", error.Message);
    }

    private static TensorProto Integers(string name, TensorProto.Types.DataType type, long[] dims, params int[] values)
    {
        var t = new TensorProto { Name = name, DataType = (int)type };
        t.Dims.AddRange(dims);
        t.Int32Data.AddRange(values); // int32_data holds (u)int8 values too
        return t;
    }

    /// <summary>x → QuantizeLinear → QLinearConv (QOperator format) → DequantizeLinear → y.</summary>
    private static byte[] QLinearConvModel()
    {
        var g = new OnnxGraph(13);
        var x = g.Input("x", -1, 1, 4, 4);
        var scale = g.Scalar("x_scale", 0.05f);
        var zero = g.Tensor(Integers("x_zero", TensorProto.Types.DataType.Uint8, [], 128));
        var q = g.Node("QuantizeLinear", [x, scale, zero], "xq");
        var w = g.Tensor(Integers("w", TensorProto.Types.DataType.Uint8, [2, 1, 3, 3], Enumerable.Range(0, 18).Select(i => 120 + i).ToArray()));
        var wScale = g.Scalar("w_scale", 0.01f);
        var wZero = g.Tensor(Integers("w_zero", TensorProto.Types.DataType.Uint8, [], 128));
        var yScale = g.Scalar("y_scale", 0.1f);
        var yZero = g.Tensor(Integers("y_zero", TensorProto.Types.DataType.Uint8, [], 128));
        var yq = g.NodeNamed("conv_q", "QLinearConv", [q, scale, zero, w, wScale, wZero, yScale, yZero], ["yq"])[0];
        g.Output(g.Node("DequantizeLinear", [yq, yScale, yZero], "y"));
        return g.Build();
    }

    /// <summary>x → QuantizeLinear → ConvInteger (int32) → Cast → y.</summary>
    private static byte[] ConvIntegerModel()
    {
        var g = new OnnxGraph(13);
        var x = g.Input("x", -1, 1, 4, 4);
        var zero = g.Tensor(Integers("x_zero", TensorProto.Types.DataType.Uint8, [], 128));
        var q = g.Node("QuantizeLinear", [x, g.Scalar("x_scale", 0.05f), zero], "xq");
        var w = g.Tensor(Integers("w", TensorProto.Types.DataType.Uint8, [2, 1, 3, 3], Enumerable.Range(0, 18).Select(i => 120 + i).ToArray()));
        var acc = g.NodeNamed("conv_int", "ConvInteger", [q, w, zero], ["acc"])[0];
        g.Output(g.Node("Cast", [acc], "y", ("to", (int)TensorProto.Types.DataType.Float)));
        return g.Build();
    }

    [Theory]
    [InlineData("QLinearConv", "conv_q")]
    [InlineData("ConvInteger", "conv_int")]
    public void A_QOperator_model_is_refused_naming_the_quantized_op(string op, string node)
    {
        var model = op == "QLinearConv" ? QLinearConvModel() : ConvIntegerModel();
        using (var runs = new OrtModel(model)) runs.Run("x", Inputs.Uniform([1, 1, 4, 4]), "y"); // a valid model

        var error = Assert.Throws<UnsupportedModelException>(() => GradientModelBuilder.Build(model, InputGradient));
        Assert.Contains(op, error.Message);
        Assert.Contains(node, error.Message);
    }
}
