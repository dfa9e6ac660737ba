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
        return Inspect(new CodedInputStream(modelBytes));
    }

    /// <summary>As <see cref="Inspect(byte[])"/>, reading the model from a stream (e.g. an upload spooled to disk).</summary>
    public static OnnxModelInfo Inspect(Stream model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Inspect(new CodedInputStream(model, leaveOpen: true));
    }

    private static OnnxModelInfo Inspect(CodedInputStream bytes)
    {
        var model = Parse(bytes);
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

    private static ModelProto Parse(CodedInputStream input)
    {
        ModelProto model;
        try
        {
            model = ReadOutline(input);
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

    /// <summary>
    /// The model's outline: its IR version and its graph's inputs, outputs and initializer names, read field by field
    /// with everything else skipped, so that a model of hundreds of megabytes is checked without holding its weights
    /// (a full parse would copy every initializer).
    /// </summary>
    private static ModelProto ReadOutline(CodedInputStream input)
    {
        var model = new ModelProto();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag), WireFormat.GetTagWireType(tag))
            {
                case (ModelProto.IrVersionFieldNumber, WireFormat.WireType.Varint):
                    model.IrVersion = input.ReadInt64();
                    break;
                case (ModelProto.GraphFieldNumber, WireFormat.WireType.LengthDelimited):
                    ReadGraphOutline(input, model.Graph ??= new GraphProto()); // repeated occurrences merge, as protobuf's do
                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }
        return model;
    }

    private static void ReadGraphOutline(CodedInputStream input, GraphProto graph)
    {
        var end = End(input);
        while (input.Position < end)
        {
            var tag = input.ReadTag();
            switch (WireFormat.GetTagFieldNumber(tag), WireFormat.GetTagWireType(tag))
            {
                case (GraphProto.InitializerFieldNumber, WireFormat.WireType.LengthDelimited):
                    graph.Initializer.Add(new TensorProto { Name = ReadTensorName(input) });
                    break;
                case (GraphProto.InputFieldNumber, WireFormat.WireType.LengthDelimited):
                    graph.Input.Add(ValueInfoProto.Parser.ParseFrom(input.ReadBytes()));
                    break;
                case (GraphProto.OutputFieldNumber, WireFormat.WireType.LengthDelimited):
                    graph.Output.Add(ValueInfoProto.Parser.ParseFrom(input.ReadBytes()));
                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }
        CheckEnd(input, end, "graph");
    }

    /// <summary>An initializer's name; its data (often most of the file) is skipped.</summary>
    private static string ReadTensorName(CodedInputStream input)
    {
        var end = End(input);
        var name = "";
        while (input.Position < end)
        {
            var tag = input.ReadTag();
            if (WireFormat.GetTagFieldNumber(tag) == TensorProto.NameFieldNumber && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
                name = input.ReadString();
            else
                input.SkipLastField();
        }
        CheckEnd(input, end, "initializer");
        return name;
    }

    /// <summary>Reads a length-delimited field's length and returns the position where its content ends.</summary>
    private static long End(CodedInputStream input)
    {
        var length = input.ReadLength();
        return input.Position + length;
    }

    private static void CheckEnd(CodedInputStream input, long end, string what)
    {
        if (input.Position != end)
            throw new InvalidModelException($"the uploaded bytes are not an ONNX model: a {what} runs past its declared length");
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
