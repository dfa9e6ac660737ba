using Google.Protobuf;
using Onnx;

namespace Lantern.Models;

/// <summary>
/// Models exported with a fixed batch of 1 (SqueezeNet here) can often run any batch: only the declared shapes say 1.
/// This rewrites the batch dimension of the graph's input and outputs to a symbolic one and drops the recorded
/// intermediate shapes, so ONNX Runtime infers them again. Whether the graph really allows it (no Reshape to a
/// hard-coded [1, …]) is for the caller to check by running it; see <c>ModelSession</c>.
/// </summary>
public static class BatchRewriter
{
    public const string BatchDimension = "batch";

    public static byte[] WithSymbolicBatch(byte[] modelBytes)
    {
        var model = ModelProto.Parser.ParseFrom(modelBytes);
        var graph = model.Graph;
        var initializers = graph.Initializer.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var value in graph.Input.Where(i => !initializers.Contains(i.Name)).Concat(graph.Output))
        {
            var dims = value.Type?.TensorType?.Shape?.Dim;
            if (dims is not { Count: > 0 }) continue;
            dims[0] = new TensorShapeProto.Types.Dimension { DimParam = BatchDimension };
        }
        graph.ValueInfo.Clear();
        return model.ToByteArray();
    }
}
