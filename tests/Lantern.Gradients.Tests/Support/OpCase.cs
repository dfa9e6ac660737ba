using Xunit.Abstractions;

namespace Lantern.Gradients.Tests.Support;

/// <summary>One finite-difference case: a small model around the op under test, its input and how to compare.</summary>
public sealed record OpCase(string Name, Func<byte[]> Model, Tensor Input, FdOptions? Options = null, GradientRequest? Request = null)
{
    public override string ToString() => Name;

    /// <summary>
    /// A model "x" [N, …shape] → <paramref name="body"/> → target, at <paramref name="opset"/>; input uniform in [-1, 1)
    /// with N = 2 unless <paramref name="input"/> says otherwise.
    /// </summary>
    public static OpCase Of(string name, long[] shape, Func<OnnxGraph, string, string> body, int opset = 17,
        Tensor? input = null, FdOptions? options = null, GradientRequest? request = null)
    {
        byte[] Build()
        {
            var g = new OnnxGraph(opset);
            var x = g.Input("x", [-1, .. shape]);
            g.Output(body(g, x));
            return g.Build();
        }
        return new OpCase(name, Build, input ?? Inputs.Uniform([2, .. shape]), options, request);
    }

    /// <summary>Like <see cref="Of"/> with the grid input of distinct values that keeps piecewise ops off their kinks.</summary>
    public static OpCase OnGrid(string name, long[] shape, Func<OnnxGraph, string, string> body, int opset = 17,
        GradientRequest? request = null) =>
        Of(name, shape, body, opset, Inputs.Grid([2, .. shape]), request: request);
}

/// <summary>A table of cases looked up by name, so each theory row shows the case's name.</summary>
public abstract class OpCaseTable
{
    private readonly ITestOutputHelper output;

    protected OpCaseTable(ITestOutputHelper output) => this.output = output;

    protected static TheoryData<string> NamesOf(IEnumerable<OpCase> cases) => new(cases.Select(c => c.Name));

    protected void Check(IEnumerable<OpCase> cases, string name)
    {
        var c = cases.Single(c => c.Name == name);
        var report = GradientCheck.InputGradient(c.Model(), c.Input, c.Request, c.Options);
        output.WriteLine($"{name}: max relative error {report.MaxRelativeError:G3}");
        output.WriteLine(report.Log);
    }
}
