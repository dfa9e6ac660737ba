using Lantern.Gradients.Tests.Support;
using Xunit.Abstractions;

namespace Lantern.Gradients.Tests.Ops;

/// <summary>
/// MaxPool runs on the grid input: all values distinct by ≥ 0.1, so a step of h = 0.01 never changes which element wins
/// a window and FD is exact up to rounding. Overlapping windows make one element win twice (its gradient must add up).
/// </summary>
public sealed class PoolingGradientTests(ITestOutputHelper output) : OpCaseTable(output)
{
    private static string MaxPool(OnnxGraph g, string x, params (string, object)[] attributes) => g.Node("MaxPool", [x], "y", attributes);

    private static string AveragePool(OnnxGraph g, string x, params (string, object)[] attributes) => g.Node("AveragePool", [x], "y", attributes);

    private static readonly int[] K2 = [2, 2], K3 = [3, 3], S1 = [1, 1], S2 = [2, 2], P1 = [1, 1, 1, 1];

    public static readonly OpCase[] MaxPoolCases =
    [
        OpCase.OnGrid("2x2 stride 2 non-overlapping", [3, 8, 8], (g, x) => MaxPool(g, x, ("kernel_shape", K2), ("strides", S2))),
        OpCase.OnGrid("2x2 stride 2 on 7 (last row and column unused)", [3, 7, 7], (g, x) => MaxPool(g, x, ("kernel_shape", K2), ("strides", S2))),
        OpCase.OnGrid("3x3 stride 2 overlapping", [3, 7, 7], (g, x) => MaxPool(g, x, ("kernel_shape", K3), ("strides", S2))),
        OpCase.OnGrid("3x3 stride 1 overlapping", [2, 5, 5], (g, x) => MaxPool(g, x, ("kernel_shape", K3), ("strides", S1))),
        OpCase.OnGrid("3x3 stride 2 pads 1", [3, 7, 7], (g, x) => MaxPool(g, x, ("kernel_shape", K3), ("strides", S2), ("pads", P1))),
        OpCase.OnGrid("asymmetric pads", [3, 6, 6], (g, x) => MaxPool(g, x, ("kernel_shape", K3), ("strides", S2), ("pads", new[] { 0, 1, 1, 0 }))),
        OpCase.OnGrid("3x3 stride 2 ceil_mode on 8", [3, 8, 8], (g, x) => MaxPool(g, x, ("kernel_shape", K3), ("strides", S2), ("ceil_mode", 1))),
        OpCase.OnGrid("auto_pad SAME_UPPER 2x2 stride 2 on 7", [3, 7, 7],
            (g, x) => MaxPool(g, x, ("kernel_shape", K2), ("strides", S2), ("auto_pad", "SAME_UPPER"))),
        OpCase.OnGrid("dilations 2", [3, 7, 7], (g, x) => MaxPool(g, x, ("kernel_shape", K2), ("strides", S1), ("dilations", K2))),
        OpCase.OnGrid("opset 9 3x3 stride 2", [3, 7, 7], (g, x) => MaxPool(g, x, ("kernel_shape", K3), ("strides", S2)), opset: 9),
    ];

    public static TheoryData<string> MaxPoolNames => NamesOf(MaxPoolCases);

    [Theory, MemberData(nameof(MaxPoolNames))]
    public void MaxPool_gradient_matches_finite_differences(string variant) => Check(MaxPoolCases, variant);

    public static readonly OpCase[] AveragePoolCases =
    [
        OpCase.Of("3x3 stride 2 no pads", [3, 7, 7], (g, x) => AveragePool(g, x, ("kernel_shape", K3), ("strides", S2))),
        OpCase.Of("2x2 stride 2 on 7", [3, 7, 7], (g, x) => AveragePool(g, x, ("kernel_shape", K2), ("strides", S2))),
        OpCase.Of("pads 1 count_include_pad 0", [3, 7, 7], (g, x) => AveragePool(g, x, ("kernel_shape", K3), ("strides", S2), ("pads", P1))),
        OpCase.Of("pads 1 count_include_pad 1", [3, 7, 7],
            (g, x) => AveragePool(g, x, ("kernel_shape", K3), ("strides", S2), ("pads", P1), ("count_include_pad", 1))),
        OpCase.Of("asymmetric pads count_include_pad 0", [3, 6, 6],
            (g, x) => AveragePool(g, x, ("kernel_shape", K3), ("strides", S2), ("pads", new[] { 0, 1, 1, 0 }))),
        OpCase.Of("asymmetric pads count_include_pad 1", [3, 6, 6],
            (g, x) => AveragePool(g, x, ("kernel_shape", K3), ("strides", S2), ("pads", new[] { 0, 1, 1, 0 }), ("count_include_pad", 1))),
        OpCase.Of("ceil_mode on 8", [3, 8, 8], (g, x) => AveragePool(g, x, ("kernel_shape", K3), ("strides", S2), ("ceil_mode", 1))),
        OpCase.Of("ceil_mode with pads count_include_pad 1", [3, 8, 8],
            (g, x) => AveragePool(g, x, ("kernel_shape", K3), ("strides", S2), ("pads", P1), ("ceil_mode", 1), ("count_include_pad", 1))),
        OpCase.Of("auto_pad SAME_UPPER", [3, 7, 7], (g, x) => AveragePool(g, x, ("kernel_shape", K3), ("strides", S2), ("auto_pad", "SAME_UPPER"))),
        OpCase.Of("opset 9 with pads", [3, 7, 7], (g, x) => AveragePool(g, x, ("kernel_shape", K3), ("strides", S2), ("pads", P1)), opset: 9),
    ];

    public static TheoryData<string> AveragePoolNames => NamesOf(AveragePoolCases);

    [Theory, MemberData(nameof(AveragePoolNames))]
    public void AveragePool_gradient_matches_finite_differences(string variant) => Check(AveragePoolCases, variant);

    public static readonly OpCase[] GlobalCases =
    [
        OpCase.Of("GlobalAveragePool", [3, 5, 4], (g, x) => g.Node("GlobalAveragePool", [x], "y")),
        OpCase.Of("GlobalAveragePool opset 9", [3, 5, 4], (g, x) => g.Node("GlobalAveragePool", [x], "y"), opset: 9),
        OpCase.OnGrid("GlobalMaxPool", [3, 5, 4], (g, x) => g.Node("GlobalMaxPool", [x], "y")),
        OpCase.OnGrid("GlobalMaxPool 1-D, then Flatten and Gemm", [3, 6], (g, x) =>
            g.Node("Gemm", [g.Node("Flatten", [g.Node("GlobalMaxPool", [x], "p")], "f"), g.Weight("W", [3, 2])], "y")),
    ];

    public static TheoryData<string> GlobalNames => NamesOf(GlobalCases);

    [Theory, MemberData(nameof(GlobalNames))]
    public void Global_pool_gradient_matches_finite_differences(string variant) => Check(GlobalCases, variant);
}
