using Google.Protobuf;
using Lantern.Gradients.Graph;
using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace Lantern.Gradients.Rules;

/// <summary>
/// The weight of each AveragePool output in its window, 1 / divisor. Edge windows (pads, ceil_mode) divide by counts
/// whose conventions differ between frameworks, so they are measured: pooling ones gives valid/divisor per output, and
/// the valid (in-image) count follows from the geometry.
/// </summary>
internal static class AveragePoolDivisors
{
    public static float[] WindowWeights(NodeProto pool, long[] planeShape)
    {
        var model = new ModelProto { IrVersion = 8, Graph = new GraphProto { Name = "divisors" } };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OpsetUpgrade.TargetOpset });
        var node = pool.Clone();
        node.Name = "pool";
        node.Input.Clear();
        node.Input.Add("x");
        node.Output.Clear();
        node.Output.Add("y");
        model.Graph.Node.Add(node);
        model.Graph.Input.Add(FloatValue("x", planeShape));
        model.Graph.Output.Add(new ValueInfoProto { Name = "y" });
        using var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        using var session = ShapeProbe.Open(model.ToByteArray(), options);
        var count = planeShape.Aggregate(1L, (a, d) => a * d);
        using var input = OrtValue.CreateTensorValueFromMemory(Enumerable.Repeat(1f, (int)count).ToArray(), planeShape);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, ["x"], [input], ["y"]);
        var pooled = results[0].GetTensorDataAsSpan<float>().ToArray();
        var outputSpatial = results[0].GetTensorTypeAndShape().Shape[2..];
        var inputSpatial = planeShape[2..];
        var geometry = WindowGeometry.Resolve(pool, pool.GetInts("kernel_shape")!, inputSpatial, outputSpatial);
        var weights = new float[pooled.Length];
        var position = new long[outputSpatial.Length];
        for (var o = 0; o < pooled.Length; o++)
        {
            var remainder = (long)o;
            long valid = 1;
            for (var axis = outputSpatial.Length - 1; axis >= 0; axis--)
            {
                position[axis] = remainder % outputSpatial[axis];
                remainder /= outputSpatial[axis];
                var start = position[axis] * geometry.Strides[axis] - geometry.PadsBegin[axis];
                var end = start + geometry.Kernel[axis];
                valid *= Math.Max(0, Math.Min(end, inputSpatial[axis]) - Math.Max(start, 0));
            }
            weights[o] = valid == 0 ? 0f : pooled[o] / valid;
        }
        return weights;
    }

    private static ValueInfoProto FloatValue(string name, long[] shape)
    {
        var type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = new TensorShapeProto() } };
        foreach (var dim in shape) type.TensorType.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = dim });
        return new ValueInfoProto { Name = name, Type = type };
    }
}
