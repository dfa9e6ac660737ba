using Lantern.Gradients.Tests.Support;
using Xunit.Abstractions;

namespace Lantern.Gradients.Tests.Ops;

/// <summary>
/// Add, Sub, Mul and Div with numpy broadcasting both ways: activation ⊙ constant, constant ⊙ activation and
/// activation ⊙ activation where either side (or both) broadcasts, so the backward pass must reduce over the
/// broadcast axes. Div's denominators stay in [1, 2] (constants) or are t² + 1 (activations), away from the pole.
/// </summary>
public sealed class ElementwiseGradientTests(ITestOutputHelper output) : OpCaseTable(output)
{
    private static readonly string[] Ops = ["Add", "Sub", "Mul", "Div"];

    private static string Denominator(OnnxGraph g, string op, string t, string name) =>
        op == "Div" ? g.Node("Add", [g.Node("Mul", [t, t], name + "_sq"), g.Scalar(name + "_one", 1f)], name) : t;

    private static string Constant(OnnxGraph g, string op, string name, long[] dims, bool denominator) =>
        op == "Div" && denominator ? g.Weight(name, dims, low: 1f, high: 2f) : g.Weight(name, dims);

    private static IEnumerable<OpCase> CasesFor(string op)
    {
        long[] shape = [3, 4, 5];
        yield return OpCase.Of($"{op}: x ⊙ c[3,1,1]", shape, (g, x) => g.Node(op, [x, Constant(g, op, "c", [3, 1, 1], true)], "y"));
        yield return OpCase.Of($"{op}: c[5] ⊙ x", shape, (g, x) => g.Node(op, [Constant(g, op, "c", [5], false), Denominator(g, op, x, "d")], "y"));
        yield return OpCase.Of($"{op}: x ⊙ scalar", shape, (g, x) => g.Node(op, [x, g.Scalar("c", 1.75f)], "y"));
        yield return OpCase.Of($"{op}: x ⊙ c[4,5] then ⊙ c[1,3,4,5]", shape, (g, x) =>
            g.Node(op, [g.Node(op, [x, Constant(g, op, "c1", [4, 5], true)], "t"), Constant(g, op, "c2", [1, 3, 4, 5], true)], "y"));
        yield return OpCase.Of($"{op}: x ⊙ mean(x)[N,3,1,1]", shape, (g, x) =>
        {
            var m = g.Node("ReduceMean", [x], "m", ("axes", new[] { 2, 3 }), ("keepdims", 1));
            return g.Node(op, [x, Denominator(g, op, m, "d")], "y");
        });
        yield return OpCase.Of($"{op}: mean(x)[N,3,1,1] ⊙ x", shape, (g, x) =>
        {
            var m = g.Node("ReduceMean", [x], "m", ("axes", new[] { 2, 3 }), ("keepdims", 1));
            return g.Node(op, [m, Denominator(g, op, x, "d")], "y");
        });
        yield return OpCase.Of($"{op}: a[N,3,4,1] ⊙ b[N,1,1,5], both broadcast", shape, (g, x) =>
        {
            var a = g.Node("ReduceMean", [x], "a", ("axes", new[] { 3 }), ("keepdims", 1));
            var b = g.Node("ReduceSum", [x, g.Ints("b_axes", [1, 2])], "b", ("keepdims", 1));
            return g.Node(op, [a, Denominator(g, op, b, "d")], "y");
        });
        yield return OpCase.Of($"{op}: x ⊙ x, the same tensor twice", shape, (g, x) => g.Node(op, [x, Denominator(g, op, x, "d")], "y"));
        yield return OpCase.Of($"{op}: opset 9 x ⊙ c[3,1,1]", shape, (g, x) => g.Node(op, [x, Constant(g, op, "c", [3, 1, 1], true)], "y"), opset: 9);
    }

    public static readonly OpCase[] Cases = Ops.SelectMany(CasesFor).ToArray();

    public static TheoryData<string> Names => NamesOf(Cases);

    [Theory, MemberData(nameof(Names))]
    public void Broadcasting_arithmetic_gradient_matches_finite_differences(string variant) => Check(Cases, variant);

    /// <summary>On the grid input x, c⊙x and 0.2 never tie nor come within a step of each other (c ∈ {−0.5, 2, 0.3}).</summary>
    public static readonly OpCase[] MaxMinCases =
    [
        OpCase.OnGrid("Max of x and c[3,1,1]⊙x", [3, 4, 5], (g, x) =>
            g.Node("Max", [x, g.Node("Mul", [x, g.Weight("c", [3, 1, 1], [-0.5f, 2f, 0.3f])], "cx")], "y")),
        OpCase.OnGrid("Min of x and c[3,1,1]⊙x", [3, 4, 5], (g, x) =>
            g.Node("Min", [x, g.Node("Mul", [x, g.Weight("c", [3, 1, 1], [-0.5f, 2f, 0.3f])], "cx")], "y")),
        OpCase.OnGrid("Max of x and a scalar (a shifted ReLU)", [3, 4, 5], (g, x) => g.Node("Max", [x, g.Scalar("floor", 0.2f)], "y")),
        // x[:, :, :1] broadcasts over H and ties with x itself in row 0, where the halves must add back up to dY; the
        // constants sit at multiples of 0.1, 0.05 from every grid value.
        OpCase.OnGrid("Max of three: x, its first row broadcast (a tie with itself) and c[5]", [3, 4, 5], (g, x) =>
        {
            var first = g.Node("Slice", [x, g.Ints("starts", [0]), g.Ints("ends", [1]), g.Ints("axes", [2])], "first");
            return g.Node("Max", [x, first, g.Weight("c", [5], [-0.3f, 0.1f, 0f, 0.6f, -1f])], "y");
        }),
        OpCase.OnGrid("Min of one input", [3, 4, 5], (g, x) => g.Node("Min", [x], "y")),
        OpCase.OnGrid("Max opset 9", [3, 4, 5], (g, x) => g.Node("Max", [x, g.Scalar("floor", -0.2f)], "y"), opset: 9),
    ];

    public static TheoryData<string> MaxMinNames => NamesOf(MaxMinCases);

    [Theory, MemberData(nameof(MaxMinNames))]
    public void Max_and_Min_send_the_gradient_to_the_winning_input(string variant) => Check(MaxMinCases, variant);
}
