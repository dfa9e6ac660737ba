using System.Text;
using Lantern.Gradients.Tests.Support;

namespace Lantern.Gradients.Tests;

/// <summary>The finite-difference checker itself, on a model whose gradient is known without the builder.</summary>
public sealed class GradientCheckTests
{
    private static (Func<Tensor, Tensor> Target, Tensor Seed, Tensor X, Tensor Gradient) Tanh()
    {
        // target = tanh(x ⊙ w), so d(Σ s ⊙ target)/dx = s ⊙ w ⊙ (1 − tanh²(x ⊙ w)).
        var g = new OnnxGraph();
        var x = g.Input("x", -1, 3, 4);
        var w = Inputs.Uniform([3, 4], seed: 8).Data;
        g.Output(g.Node("Tanh", [g.Node("Mul", [x, g.Weight("w", [3, 4], w)], "xw")], "y"));
        var session = new OrtModel(g.Build());
        var point = Inputs.Uniform([2, 3, 4]);
        var seed = Inputs.Uniform([2, 3, 4], seed: 11);
        var gradient = new float[24];
        for (var i = 0; i < 24; i++)
        {
            var t = Math.Tanh(point.Data[i] * w[i % 12]);
            gradient[i] = (float)(seed.Data[i] * w[i % 12] * (1 - t * t));
        }
        return (p => session.Run("x", p, "y"), seed, point, new Tensor(gradient, [2, 3, 4]));
    }

    [Fact]
    public void The_exact_gradient_passes_well_inside_the_tolerance()
    {
        var (target, seed, x, gradient) = Tanh();
        var error = GradientCheck.CompareWithFiniteDifferences(target, seed, x, gradient, new FdOptions(), new StringBuilder());
        Assert.True(error < 1e-4, $"max relative error {error}");
    }

    [Theory]
    [InlineData("one coordinate 1% off")]
    [InlineData("rows swapped")]
    public void A_wrong_gradient_fails(string mistake)
    {
        var (target, seed, x, gradient) = Tanh();
        var wrong = (float[])gradient.Data.Clone();
        if (mistake == "rows swapped") wrong = [.. gradient.Data[12..], .. gradient.Data[..12]];
        else
        {
            var largest = Array.IndexOf(wrong, wrong.MaxBy(Math.Abs));
            wrong[largest] *= 1.01f;
        }
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() =>
            GradientCheck.CompareWithFiniteDifferences(target, seed, x, new Tensor(wrong, gradient.Shape), new FdOptions(), new StringBuilder()));
    }
}
