using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace Lantern.Gradients.Graph;

/// <summary>
/// Concrete shapes of every tensor, found by running the forward graph once at batch 1 with every intermediate tensor
/// added as an output. Cheaper and more complete than shape inference, and always agrees with what ONNX Runtime does.
/// </summary>
internal static class ShapeProbe
{
    /// <summary>
    /// The shapes of every tensor. Makes axis-less Squeezes explicit first (see <see cref="SqueezeAxes"/>): that
    /// rewrites <paramref name="prepared"/>, so the shapes hold for the graph the gradient model is built from.
    /// </summary>
    public static Dictionary<string, long[]> Run(PreparedModel prepared, long[] inputShape)
    {
        SqueezeAxes.MakeExplicit(prepared, inputShape);
        return Run(prepared, inputShape, null);
    }

    /// <summary>The shapes of <paramref name="only"/> (null: every tensor), running just the nodes they need.</summary>
    public static Dictionary<string, long[]> Run(PreparedModel prepared, long[] inputShape, IReadOnlyCollection<string>? only)
    {
        var model = prepared.Model.Clone();
        var graph = model.Graph;
        SetInputShape(graph, prepared.InputName, inputShape.Select(d => (long?)d).ToArray(), null);
        graph.Output.Clear();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var output in only ?? graph.Node.SelectMany(n => n.Output))
            if (output.Length > 0 && seen.Add(output)) graph.Output.Add(new ValueInfoProto { Name = output });
        if (only is not null) Quantization.RemoveUnused(graph, _ => true);

        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_BASIC, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        using var session = Open(model.ToByteArray(), options);
        var count = inputShape.Aggregate(1L, (a, d) => a * d);
        using var input = OrtValue.CreateTensorValueFromMemory(new float[count], inputShape);
        using var runOptions = new RunOptions();
        var names = session.OutputNames.ToList();
        using var results = session.Run(runOptions, [prepared.InputName], [input], names);
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal) { [prepared.InputName] = inputShape };
        for (var i = 0; i < names.Count; i++)
            if (results[i].OnnxType == OnnxValueType.ONNX_TYPE_TENSOR) shapes[names[i]] = results[i].GetTensorTypeAndShape().Shape;
        foreach (var initializer in graph.Initializer) shapes[initializer.Name] = initializer.Dims.ToArray();
        return shapes;
    }

    public static InferenceSession Open(byte[] model, SessionOptions options)
    {
        try
        {
            return new InferenceSession(model, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new UnsupportedModelException($"ONNX Runtime cannot load the normalised model: {e.Message}");
        }
    }

    /// <summary>Sets the declared input shape; a null dim becomes the symbolic <paramref name="symbol"/>.</summary>
    public static void SetInputShape(GraphProto graph, string inputName, long?[] dims, string? symbol)
    {
        var input = graph.Input.First(i => i.Name == inputName);
        var shape = input.Type.TensorType.Shape = new TensorShapeProto();
        foreach (var dim in dims)
            shape.Dim.Add(dim is { } value ? new TensorShapeProto.Types.Dimension { DimValue = value } : new TensorShapeProto.Types.Dimension { DimParam = symbol ?? "unknown" });
    }
}
