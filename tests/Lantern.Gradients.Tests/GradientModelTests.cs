using Lantern.Gradients.Tests.Support;
using Xunit.Abstractions;

namespace Lantern.Gradients.Tests;

/// <summary>The gradient model's contract beyond single ops: batch rows, intermediate tensors, values, guided backprop.</summary>
public sealed class GradientModelTests(ITestOutputHelper output)
{
    /// <summary>scores = x·W + b: the gradient of class k's score is column k of W, whatever x is.</summary>
    private static (byte[] Model, float[] W) Linear(int features, int classes)
    {
        var g = new OnnxGraph();
        var x = g.Input("x", -1, features);
        var w = Inputs.Uniform([features, classes], seed: 9).Data;
        g.Output(g.Node("Gemm", [x, g.Weight("W", [features, classes], w), g.Weight("b", [classes])], "scores"));
        return (g.Build(), w);
    }

    [Fact]
    public void Each_batch_row_gets_the_gradient_of_its_own_seed()
    {
        var (model, w) = Linear(6, 3);
        var gm = GradientModelBuilder.Build(model, new GradientRequest { GradientOf = ["x"] });
        Assert.Equal("scores", gm.TargetTensor);
        Assert.Equal([3L], gm.SeedShape);
        Assert.False(gm.BatchIsFixed);

        // The same image twice, explained for class 2 in row 0 and class 0 in row 1.
        var row = Inputs.Uniform([1, 6]).Data;
        var x = new Tensor([.. row, .. row], [2, 6]);
        float[] seed = [0, 0, 1, 1, 0, 0];
        var (_, score, outputs) = GradientCheck.RunGradientModel(gm, x, seed, new FdOptions(), gm.GradientOutputs["x"]);
        var gradient = outputs[gm.GradientOutputs["x"]];
        for (var f = 0; f < 6; f++)
        {
            Assert.Equal(w[f * 3 + 2], gradient.Data[f], 6);
            Assert.Equal(w[f * 3 + 0], gradient.Data[6 + f], 6);
        }
        Assert.NotEqual(score.Data[0], score.Data[1]);
    }

    /// <summary>x → Conv → Tanh → mid → (Conv(mid) + mid) → Sigmoid → GlobalAveragePool → Flatten → Gemm: mid fans out.</summary>
    private static byte[] SmoothNet()
    {
        var g = new OnnxGraph(seed: 4);
        var x = g.Input("x", -1, 3, 6, 6);
        var c1 = g.Node("Conv", [x, g.Weight("W1", [4, 3, 3, 3]), g.Weight("B1", [4])], "c1", ("pads", new[] { 1, 1, 1, 1 }));
        var mid = g.Node("Tanh", [c1], "mid");
        var c2 = g.Node("Conv", [mid, g.Weight("W2", [4, 4, 3, 3]), g.Weight("B2", [4])], "c2", ("pads", new[] { 1, 1, 1, 1 }));
        var s = g.Node("Sigmoid", [g.Node("Add", [c2, mid], "res")], "act");
        var pooled = g.Node("Flatten", [g.Node("GlobalAveragePool", [s], "gap")], "flat");
        g.Output(g.Node("Gemm", [pooled, g.Weight("W3", [4, 5]), g.Weight("B3", [5])], "logits"));
        return g.Build();
    }

    [Fact]
    public void The_gradient_of_a_small_net_matches_finite_differences_at_the_input()
    {
        var report = GradientCheck.InputGradient(SmoothNet(), Inputs.Uniform([2, 3, 6, 6]));
        output.WriteLine(report.Log);
    }

    [Fact]
    public void The_gradient_at_an_intermediate_tensor_matches_finite_differences_of_the_model_cut_there()
    {
        var report = GradientCheck.TensorGradient(SmoothNet(), Inputs.Uniform([2, 3, 6, 6]), "mid");
        output.WriteLine(report.Log);
        Assert.Equal([4L, 6, 6], report.Model.Shapes["mid"][^3..]);
    }

    [Fact]
    public void Gradients_at_the_input_and_at_a_layer_come_from_one_model_and_agree_with_the_chain_rule()
    {
        // d score / d x = J_mid(x)ᵀ · (d score / d mid): checked as a directional derivative, J_mid·v by central differences
        // of the forward model up to mid, so the two gradient outputs must be consistent with each other.
        var model = SmoothNet();
        var gm = GradientModelBuilder.Build(model, new GradientRequest { GradientOf = ["x", "mid"], ValuesOf = ["mid"] });
        var x = Inputs.Uniform([2, 3, 6, 6]);
        var (_, _, outputs) = GradientCheck.RunGradientModel(gm, x, null, new FdOptions(), gm.GradientOutputs["x"], gm.GradientOutputs["mid"], gm.ValueOutputs["mid"]);
        var gx = outputs[gm.GradientOutputs["x"]];
        var gmid = outputs[gm.GradientOutputs["mid"]];

        using var upToMid = new OrtModel(ModelSurgery.WithOutputs(model, "mid"));
        var mid = upToMid.Run("x", x, "mid");
        Assert.Equal(mid.Data, outputs[gm.ValueOutputs["mid"]].Data);

        var v = Inputs.Uniform([2, 3, 6, 6], seed: 77);
        const float h = 1e-2f;
        var plus = upToMid.Run("x", new Tensor(x.Data.Zip(v.Data, (a, b) => a + h * b).ToArray(), x.Shape), "mid");
        var minus = upToMid.Run("x", new Tensor(x.Data.Zip(v.Data, (a, b) => a - h * b).ToArray(), x.Shape), "mid");
        var viaMid = 0.0;
        for (var i = 0; i < gmid.Data.Length; i++) viaMid += gmid.Data[i] * (plus.Data[i] - minus.Data[i]) / (2.0 * h);
        var direct = gx.Data.Zip(v.Data, (a, b) => (double)a * b).Sum();
        output.WriteLine($"g_x·v {direct}, g_mid·(J v) {viaMid}");
        Assert.True(Math.Abs(direct - viaMid) <= 1e-3 * (Math.Abs(direct) + 1e-3), $"g_x·v {direct} but g_mid·(J_mid v) {viaMid}");
    }

    /// <summary>x [1,2] → MatMul W1 → Relu → MatMul W2 → scores [1,2], numbers small enough to follow by hand.</summary>
    private static byte[] HandNet()
    {
        var g = new OnnxGraph();
        var x = g.Input("x", -1, 2);
        var h = g.Node("MatMul", [x, g.Weight("W1", [2, 3], [1f, -1f, 0.5f, -0.25f, 1f, -1f])], "h");
        var r = g.Node("Relu", [h], "r");
        g.Output(g.Node("MatMul", [r, g.Weight("W2", [3, 2], [2f, 0f, -3f, 1f, 4f, 1f])], "scores"));
        return g.Build();
    }

    [Theory]
    [InlineData(ReluRule.Plain, 5f, -3.5f)]
    [InlineData(ReluRule.Guided, 2f, -0.5f)]
    public void Guided_backprop_passes_only_positive_gradients_through_positive_units(ReluRule rule, float dx0, float dx1)
    {
        // x = [1, 2]: h = x·W1 = [0.5, 1, -1.5], so unit 2 is off. Class 0: dscore/dr = W2[:,0] = [2, -3, 4].
        // Plain:  dh = [2, -3, 0]             → dx = W1·dh = [1·2 + (-1)(-3), -0.25·2 + 1·(-3)] = [5, -3.5].
        // Guided: dh = [2, 0, 0] (unit 1's gradient is negative, unit 2 is off) → dx = [2, -0.5].
        var gm = GradientModelBuilder.Build(HandNet(), new GradientRequest { GradientOf = ["x"], Relu = rule });
        var (_, score, outputs) = GradientCheck.RunGradientModel(gm, new Tensor([1f, 2f], [1, 2]), [1f, 0f], new FdOptions(), gm.GradientOutputs["x"]);
        Assert.Equal(-2f, score.Data[0], 5); // 0.5·2 + 1·(-3) + 0·4
        Assert.Equal([dx0, dx1], outputs[gm.GradientOutputs["x"]].Data);
    }

    [Fact]
    public void Guided_backprop_through_two_relu_layers_matches_a_reference_computed_in_the_test()
    {
        const int inputs = 5, hidden1 = 7, hidden2 = 6, classes = 3;
        var w1 = Inputs.Uniform([inputs, hidden1], seed: 21).Data;
        var w2 = Inputs.Uniform([hidden1, hidden2], seed: 22).Data;
        var w3 = Inputs.Uniform([hidden2, classes], seed: 23).Data;
        var g = new OnnxGraph();
        var x = g.Input("x", -1, inputs);
        var r1 = g.Node("Relu", [g.Node("MatMul", [x, g.Weight("W1", [inputs, hidden1], w1)], "h1")], "r1");
        var r2 = g.Node("Relu", [g.Node("MatMul", [r1, g.Weight("W2", [hidden1, hidden2], w2)], "h2")], "r2");
        g.Output(g.Node("MatMul", [r2, g.Weight("W3", [hidden2, classes], w3)], "scores"));
        var gm = GradientModelBuilder.Build(g.Build(), new GradientRequest { GradientOf = ["x"], Relu = ReluRule.Guided });

        var xs = Inputs.Uniform([2, inputs], seed: 24);
        float[] seed = [1, 0, 0, 0, 0, 1];
        var (_, _, outputs) = GradientCheck.RunGradientModel(gm, xs, seed, new FdOptions(), gm.GradientOutputs["x"]);
        var actual = outputs[gm.GradientOutputs["x"]].Data;

        for (var n = 0; n < 2; n++)
        {
            var xn = xs.Data.AsSpan(n * inputs, inputs).ToArray();
            var h1 = MatVec(xn, w1, inputs, hidden1);
            var a1 = h1.Select(v => Math.Max(v, 0)).ToArray();
            var h2 = MatVec(a1.Select(v => (float)v).ToArray(), w2, hidden1, hidden2);
            var d2 = new double[hidden2];
            for (var j = 0; j < hidden2; j++)
                for (var k = 0; k < classes; k++) d2[j] += w3[j * classes + k] * seed[n * classes + k];
            // Guided rule at each ReLU: pass the gradient only where it is positive and the unit's input was positive.
            var g2 = d2.Select((d, j) => h2[j] > 0 && d > 0 ? d : 0).ToArray();
            var d1 = new double[hidden1];
            for (var i = 0; i < hidden1; i++)
                for (var j = 0; j < hidden2; j++) d1[i] += w2[i * hidden2 + j] * g2[j];
            var g1 = d1.Select((d, i) => h1[i] > 0 && d > 0 ? d : 0).ToArray();
            for (var f = 0; f < inputs; f++)
            {
                var expected = 0.0;
                for (var i = 0; i < hidden1; i++) expected += w1[f * hidden1 + i] * g1[i];
                Assert.Equal(expected, actual[n * inputs + f], 5);
            }
        }
    }

    private static double[] MatVec(float[] x, float[] w, int rows, int cols)
    {
        var y = new double[cols];
        for (var i = 0; i < rows; i++)
            for (var j = 0; j < cols; j++) y[j] += (double)x[i] * w[i * cols + j];
        return y;
    }
}
