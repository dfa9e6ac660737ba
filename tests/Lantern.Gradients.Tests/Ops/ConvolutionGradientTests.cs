using Lantern.Gradients.Tests.Support;
using Xunit.Abstractions;

namespace Lantern.Gradients.Tests.Ops;

/// <summary>Conv and ConvTranspose: the input gradient matches central differences for each attribute combination.</summary>
public sealed class ConvolutionGradientTests(ITestOutputHelper output) : OpCaseTable(output)
{
    private static string Conv(OnnxGraph g, string x, long[] w, bool bias, params (string, object)[] attributes) =>
        g.Node("Conv", bias ? [x, g.Weight("W", w), g.Weight("B", [w[0]])] : [x, g.Weight("W", w)], "y", attributes);

    public static readonly OpCase[] ConvCases =
    [
        OpCase.Of("3x3 pads 1 with bias", [3, 7, 7], (g, x) => Conv(g, x, [4, 3, 3, 3], true, ("pads", new[] { 1, 1, 1, 1 }))),
        OpCase.Of("2x2 valid without bias", [3, 6, 6], (g, x) => Conv(g, x, [5, 3, 2, 2], false)),
        OpCase.Of("depthwise group=C", [4, 7, 7], (g, x) => Conv(g, x, [4, 1, 3, 3], true, ("group", 4), ("pads", new[] { 1, 1, 1, 1 }))),
        OpCase.Of("group 2", [4, 6, 6], (g, x) => Conv(g, x, [6, 2, 3, 3], true, ("group", 2))),
        OpCase.Of("strides 2 where the stride does not divide (8 wide, kernel 3)", [3, 8, 8],
            (g, x) => Conv(g, x, [4, 3, 3, 3], true, ("strides", new[] { 2, 2 }))),
        OpCase.Of("asymmetric pads", [3, 6, 7], (g, x) => Conv(g, x, [4, 3, 3, 3], true, ("pads", new[] { 0, 1, 2, 0 }))),
        OpCase.Of("dilations 2", [3, 9, 9], (g, x) => Conv(g, x, [4, 3, 3, 3], true, ("dilations", new[] { 2, 2 }), ("pads", new[] { 1, 1, 1, 1 }))),
        OpCase.Of("auto_pad SAME_UPPER kernel 4 stride 2 on odd size", [3, 7, 7],
            (g, x) => Conv(g, x, [4, 3, 4, 4], true, ("auto_pad", "SAME_UPPER"), ("strides", new[] { 2, 2 }))),
        OpCase.Of("auto_pad SAME_LOWER kernel 4 stride 2 on odd size", [3, 7, 7],
            (g, x) => Conv(g, x, [4, 3, 4, 4], true, ("auto_pad", "SAME_LOWER"), ("strides", new[] { 2, 2 }))),
        OpCase.Of("1x1 stride 2", [3, 7, 7], (g, x) => Conv(g, x, [4, 3, 1, 1], true, ("strides", new[] { 2, 2 }))),
        OpCase.Of("rectangular kernel and strides", [3, 7, 6], (g, x) => Conv(g, x, [4, 3, 3, 2], true, ("strides", new[] { 2, 1 }), ("pads", new[] { 1, 0, 0, 1 }))),
        OpCase.Of("1-D conv stride 2", [3, 9], (g, x) => Conv(g, x, [4, 3, 3], true, ("strides", new[] { 2 }))),
        OpCase.Of("opset 11", [3, 7, 7], (g, x) => Conv(g, x, [4, 3, 3, 3], true, ("pads", new[] { 1, 1, 1, 1 }), ("strides", new[] { 2, 2 })), opset: 11),
    ];

    public static TheoryData<string> ConvNames => NamesOf(ConvCases);

    [Theory, MemberData(nameof(ConvNames))]
    public void Conv_input_gradient_matches_finite_differences(string variant) => Check(ConvCases, variant);

    private static string ConvTranspose(OnnxGraph g, string x, long[] w, long outChannels, params (string, object)[] attributes) =>
        g.Node("ConvTranspose", [x, g.Weight("W", w), g.Weight("B", [outChannels])], "y", attributes);

    public static readonly OpCase[] ConvTransposeCases =
    [
        OpCase.Of("3x3 stride 1", [4, 5, 5], (g, x) => ConvTranspose(g, x, [4, 3, 3, 3], 3)),
        OpCase.Of("stride 2 pads 1 output_padding 1", [4, 5, 5],
            (g, x) => ConvTranspose(g, x, [4, 3, 3, 3], 3, ("strides", new[] { 2, 2 }), ("pads", new[] { 1, 1, 1, 1 }), ("output_padding", new[] { 1, 1 }))),
        OpCase.Of("group 2", [4, 5, 5], (g, x) => ConvTranspose(g, x, [4, 2, 3, 3], 4, ("group", 2))),
        OpCase.Of("dilations 2", [4, 4, 4], (g, x) => ConvTranspose(g, x, [4, 3, 3, 3], 3, ("dilations", new[] { 2, 2 }))),
        // output_shape one short of the full 9×11 on each axis: the odd total padding must be cropped where ORT crops it.
        OpCase.Of("output_shape [8,10] stride 2 (odd total padding)", [4, 4, 5],
            (g, x) => ConvTranspose(g, x, [4, 3, 3, 3], 3, ("strides", new[] { 2, 2 }), ("output_shape", new[] { 8, 10 }))),
        OpCase.Of("output_shape [7,8] stride 2 (total padding 2 and 3)", [4, 4, 5],
            (g, x) => ConvTranspose(g, x, [4, 3, 3, 3], 3, ("strides", new[] { 2, 2 }), ("output_shape", new[] { 7, 8 }))),
        OpCase.Of("output_shape [8,10] with auto_pad SAME_UPPER", [4, 4, 5],
            (g, x) => ConvTranspose(g, x, [4, 3, 3, 3], 3, ("strides", new[] { 2, 2 }), ("output_shape", new[] { 8, 10 }), ("auto_pad", "SAME_UPPER"))),
        OpCase.Of("output_shape [8,10] with auto_pad SAME_LOWER", [4, 4, 5],
            (g, x) => ConvTranspose(g, x, [4, 3, 3, 3], 3, ("strides", new[] { 2, 2 }), ("output_shape", new[] { 8, 10 }), ("auto_pad", "SAME_LOWER"))),
        OpCase.Of("output_shape with output_padding and dilations", [4, 4, 5],
            (g, x) => ConvTranspose(g, x, [4, 3, 3, 3], 3, ("strides", new[] { 2, 2 }), ("dilations", new[] { 2, 1 }), ("output_padding", new[] { 1, 1 }), ("output_shape", new[] { 10, 9 }))),
        OpCase.Of("auto_pad SAME_UPPER stride 2 kernel 4", [4, 4, 5],
            (g, x) => ConvTranspose(g, x, [4, 3, 4, 4], 3, ("strides", new[] { 2, 2 }), ("auto_pad", "SAME_UPPER"))),
        OpCase.Of("auto_pad SAME_LOWER stride 2 kernel 3", [4, 4, 5],
            (g, x) => ConvTranspose(g, x, [4, 3, 3, 3], 3, ("strides", new[] { 2, 2 }), ("auto_pad", "SAME_LOWER"))),
    ];

    public static TheoryData<string> ConvTransposeNames => NamesOf(ConvTransposeCases);

    [Theory, MemberData(nameof(ConvTransposeNames))]
    public void ConvTranspose_input_gradient_matches_finite_differences(string variant) => Check(ConvTransposeCases, variant);
}
