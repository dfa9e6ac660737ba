using Lantern.Gradients.Tests.Support;
using Xunit.Abstractions;

namespace Lantern.Gradients.Tests.Ops;

/// <summary>Inference-mode BatchNormalization (an affine map per channel) and LRN (a cross-channel nonlinearity).</summary>
public sealed class NormalizationGradientTests(ITestOutputHelper output) : OpCaseTable(output)
{
    private static string BatchNorm(OnnxGraph g, string x) => g.Node("BatchNormalization",
        [x, g.Weight("scale", [3]), g.Weight("B", [3]), g.Weight("mean", [3]), g.Weight("var", [3], low: 0.5f, high: 1.5f)], "y",
        ("epsilon", 1e-3f));

    public static readonly OpCase[] Cases =
    [
        OpCase.Of("BatchNormalization", [3, 4, 5], BatchNorm),
        OpCase.Of("BatchNormalization opset 9", [3, 4, 5], BatchNorm, opset: 9),
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
