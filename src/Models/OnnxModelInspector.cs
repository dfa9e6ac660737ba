using Google.Protobuf;
using Onnx;

namespace Lantern.Models;

/// <summary>Reads the image input and score output of an ONNX classifier without running it.</summary>
public static class OnnxModelInspector
{
    /// <summary>
    /// Parses the bytes as an ONNX ModelProto and describes the first graph input that is not an initializer
    /// (IR &lt; 4 models list their weights as inputs too) and the first graph output.
    /// </summary>
    /// <exception cref="InvalidModelException">The bytes are not an ONNX model, or its input is not a
    /// float32/float16 image tensor with 3 channels.</exception>
    public static OnnxModelInfo Inspect(byte[] modelBytes)
    {
        ArgumentNullException.ThrowIfNull(modelBytes);
        var model = Parse(modelBytes);
        var graph = model.Graph
            ?? throw new InvalidModelException("the ONNX model has no graph");

        var initializers = graph.Initializer.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        var input = graph.Input.FirstOrDefault(i => !initializers.Contains(i.Name))
            ?? throw new InvalidModelException("the ONNX model has no graph input (every input is an initializer)");
        var output = graph.Output.FirstOrDefault()
            ?? throw new InvalidModelException("the ONNX model has no graph output");

        var inputTensor = input.Type?.TensorType
            ?? throw new InvalidModelException($"the model input '{input.Name}' is not a tensor");
        var inputType = KindOf(inputTensor.ElemType);
        if (inputType == TensorElementKind.Other)
        {
            throw new InvalidModelException(
                $"the model input '{input.Name}' has element type {ElemTypeName(inputTensor.ElemType)}; " +
                "only float32 and float16 image inputs are supported");
        }

        var inputShape = ShapeOf(inputTensor.Shape);
        if (inputShape is null || inputShape.Length != 4)
        {
            var got = inputShape is null ? "no shape" : $"shape {Format(inputShape)}";
            throw new InvalidModelException(
                $"the model input '{input.Name}' has {got}; an image input must be 4-D, [N,3,H,W] or [N,H,W,3]");
        }

        // [N,3,H,W] wins when both dims are 3 (a 3x3 image is not a realistic classifier input).
        bool channelsFirst;
        if (inputShape[1] == 3) channelsFirst = true;
        else if (inputShape[3] == 3) channelsFirst = false;
        else
        {
            throw new InvalidModelException(
                $"the model input '{input.Name}' has shape {Format(inputShape)}; an image input needs 3 colour " +
                "channels, [N,3,H,W] or [N,H,W,3]");
        }

        var outputTensor = output.Type?.TensorType;
        var outputShape = ShapeOf(outputTensor?.Shape) ?? [];
        var outputType = outputTensor is null ? TensorElementKind.Other : KindOf(outputTensor.ElemType);

        return new OnnxModelInfo(
            InputName: input.Name,
            InputType: inputType,
            InputShape: inputShape,
            OutputName: output.Name,
            OutputType: outputType,
            OutputShape: outputShape,
            ClassCount: ClassCountOf(outputShape),
            BatchIsFixed: inputShape[0] > 0,
            ChannelsFirst: channelsFirst,
            InputHeight: ToDim(channelsFirst ? inputShape[2] : inputShape[1]),
            InputWidth: ToDim(channelsFirst ? inputShape[3] : inputShape[2]));
    }

    private static ModelProto Parse(byte[] bytes)
    {
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidModelException($"the uploaded bytes are not an ONNX model: {e.Message}");
        }

        // Protobuf accepts many byte strings (the empty one included) as a message with only unknown fields;
        // a real ONNX file always states its IR version and carries a graph.
        if (model.IrVersion <= 0 && model.Graph is null)
        {
            throw new InvalidModelException(
                "the uploaded bytes are not an ONNX model: no IR version and no graph were found");
        }
        return model;
    }

    private static TensorElementKind KindOf(int elemType) => (TensorProto.Types.DataType)elemType switch
    {
        TensorProto.Types.DataType.Float => TensorElementKind.Float32,
        TensorProto.Types.DataType.Float16 => TensorElementKind.Float16,
        _ => TensorElementKind.Other,
    };

    private static string ElemTypeName(int elemType) =>
        Enum.IsDefined(typeof(TensorProto.Types.DataType), elemType)
            ? ((TensorProto.Types.DataType)elemType).ToString().ToLowerInvariant()
            : $"#{elemType}";

    private static long[]? ShapeOf(TensorShapeProto? shape) =>
        shape?.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue && d.DimValue > 0
            ? d.DimValue
            : -1L).ToArray();

    private static int ClassCountOf(long[] outputShape)
    {
        if (outputShape.Length < 2) return outputShape.Length == 1 && outputShape[0] > 0 ? checked((int)outputShape[0]) : -1;
        long product = 1;
        foreach (var d in outputShape.Skip(1))
        {
            if (d <= 0) return -1;
            product = checked(product * d);
        }
        return checked((int)product);
    }

    private static int ToDim(long d) => d > 0 ? checked((int)d) : -1;

    private static string Format(long[] shape) => "[" + string.Join(",", shape.Select(d => d < 0 ? "?" : d.ToString())) + "]";
}
