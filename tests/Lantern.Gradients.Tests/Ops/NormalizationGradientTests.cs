using Lantern.Gradients.Tests.Support;
using Xunit.Abstractions;

namespace Lantern.Gradients.Tests.Ops;

/// <summary>
/// Inference-mode BatchNormalization (an affine map per channel), InstanceNormalization (statistics of each example's
/// own planes, so the map is nonlinear) and LRN (a cross-channel nonlinearity).
/// </summary>
public sealed class NormalizationGradientTests(ITestOutputHelper output) : OpCaseTable(output)
{
    private static string BatchNorm(OnnxGraph g, string x) => g.Node("BatchNormalization",
        [x, g.Weight("scale", [3]), g.Weight("B", [3]), g.Weight("mean", [3]), g.Weight("var", [3], low: 0.5f, high: 1.5f)], "y",
        ("epsilon", 1e-3f));

    private static string InstanceNorm(OnnxGraph g, string x) => InstanceNorm(g, x, 1e-5f);

    /// <summary>Per (n, c) over the spatial axes; the statistics come from the input, so every element's gradient reaches every other's.</summary>
    private static string InstanceNorm(OnnxGraph g, string x, float epsilon, int channels = 3) => g.Node("InstanceNormalization",
        [x, g.Weight("scale", [channels], low: 0.5f, high: 1.5f), g.Weight("B", [channels])], "y", ("epsilon", epsilon));

    public static readonly OpCase[] Cases =
    [
        OpCase.Of("BatchNormalization", [3, 4, 5], BatchNorm),
        OpCase.Of("BatchNormalization opset 9", [3, 4, 5], BatchNorm, opset: 9),
        OpCase.Of("InstanceNormalization 2-D", [3, 4, 5], InstanceNorm),
        OpCase.Of("InstanceNormalization epsilon 0.1", [3, 4, 5], (g, x) => InstanceNorm(g, x, 0.1f)),
        OpCase.Of("InstanceNormalization 1-D", [3, 7], InstanceNorm),
        OpCase.Of("InstanceNormalization 3-D", [2, 3, 3, 4], (g, x) => InstanceNorm(g, x, 1e-5f, channels: 2)),
        OpCase.Of("InstanceNormalization after a Conv, then Tanh and a weighted sum (a style-transfer block)", [2, 5, 5], (g, x) =>
        {
            var c = g.Node("Conv", [x, g.Weight("W", [3, 2, 3, 3])], "c", ("pads", new[] { 1, 1, 1, 1 }));
            var n = g.Node("InstanceNormalization", [c, g.Weight("scale", [3]), g.Weight("B", [3])], "n");
            return g.Node("Mul", [g.Node("Tanh", [n], "t"), g.Weight("w", [3, 5, 5])], "y");
        }),
        OpCase.Of("InstanceNormalization opset 9", [3, 4, 5], InstanceNorm, opset: 9),
        OpCase.Of("LRN size 3 alpha 0.5 beta 0.75 bias 1", [5, 3, 3],
            (g, x) => g.Node("LRN", [x], "y", ("size", 3), ("alpha", 0.5f), ("beta", 0.75f), ("bias", 1f))),
        OpCase.Of("LRN size 5 alpha 0.8 beta 0.6 bias 2", [6, 3, 3],
            (g, x) => g.Node("LRN", [x], "y", ("size", 5), ("alpha", 0.8f), ("beta", 0.6f), ("bias", 2f))),
        OpCase.Of("LRN size 5 defaults", [6, 2, 3], (g, x) => g.Node("LRN", [x], "y", ("size", 5))),
    ];

    public static TheoryData<string> Names => NamesOf(Cases);

    [Theory, MemberData(nameof(Names))]
    public void Normalization_gradient_matches_finite_differences(string variant) => Check(Cases, variant);
}
