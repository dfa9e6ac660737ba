using Lantern.Cluster.Tests.Synthetic;
using Lantern.Models;

namespace Lantern.Cluster.Tests.ModelsAndImaging;

public sealed class OnnxModelInspectorTests
{
    [Theory]
    [InlineData("squeezenet1.0-fp16.onnx", "data_0", TensorElementKind.Float16, true)]
    [InlineData("squeezenet1.0-fp32.onnx", "data_0", TensorElementKind.Float32, true)]
    [InlineData("mobilenetv2-12-int8.onnx", "input", TensorElementKind.Float32, false)]
    [InlineData("mobilenetv2-12-fp32-dequant.onnx", "input", TensorElementKind.Float32, false)]
    [InlineData("shufflenet-v2-12-qdq.onnx", "input", TensorElementKind.Float32, true)]
    [InlineData("shufflenet-v2-12-fp32-dequant.onnx", "input", TensorElementKind.Float32, true)]
    public void Every_shared_model_inspects_as_a_224_pixel_RGB_classifier_with_1000_classes(
        string file, string inputName, TensorElementKind inputType, bool batchIsFixed)
    {
        var info = OnnxModelInspector.Inspect(File.ReadAllBytes(SharedData.Model(file)));

        Assert.Equal(inputName, info.InputName);
        Assert.Equal(inputType, info.InputType);
        Assert.Equal(batchIsFixed, info.BatchIsFixed);
        Assert.True(info.ChannelsFirst);
        Assert.Equal(224, info.InputHeight);
        Assert.Equal(224, info.InputWidth);
        Assert.Equal([batchIsFixed ? 1 : -1, 3, 224, 224], info.InputShape);
        Assert.Equal(1000, info.ClassCount);
    }

    [Theory]
    [InlineData("squeezenet1.0-fp32.onnx")]
    [InlineData("mobilenetv2-12-int8.onnx")]
    [InlineData("shufflenet-v2-12-qdq.onnx")]
    public void A_model_read_from_a_file_stream_outline_only_is_described_as_from_its_bytes_and_as_protobuf_parses_it(string file)
    {
        var path = SharedData.Model(file);
        using var stream = File.OpenRead(path);

        var fromStream = OnnxModelInspector.Inspect(stream);

        var fromBytes = OnnxModelInspector.Inspect(File.ReadAllBytes(path));
        Assert.Equal(fromBytes.InputShape, fromStream.InputShape);
        Assert.Equal(fromBytes.OutputShape, fromStream.OutputShape);
        Assert.Equal(fromBytes with { InputShape = fromStream.InputShape, OutputShape = fromStream.OutputShape }, fromStream);
        var parsed = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)).Graph;
        var initializers = parsed.Initializer.Select(i => i.Name).ToHashSet();
        Assert.Equal(parsed.Input.First(i => !initializers.Contains(i.Name)).Name, fromStream.InputName);
        Assert.Equal(parsed.Output[0].Name, fromStream.OutputName);
    }

    [Fact]
    public void The_fp16_squeezenet_reports_its_float16_probability_output()
    {
        var info = OnnxModelInspector.Inspect(File.ReadAllBytes(SharedData.Model("squeezenet1.0-fp16.onnx")));

        Assert.Equal("softmaxout_1", info.OutputName);
        Assert.Equal(TensorElementKind.Float16, info.OutputType);
        Assert.Equal([1, 1000, 1, 1], info.OutputShape);
    }

    [Fact]
    public void A_synthetic_model_reports_its_symbolic_batch_and_class_count()
    {
        var info = OnnxModelInspector.Inspect(SyntheticModels.SquareBrightness(8, 6, (1, 1, 2, 2)));

        Assert.Equal(("image", "scores", 2, false, true, 8, 6),
            (info.InputName, info.OutputName, info.ClassCount, info.BatchIsFixed, info.ChannelsFirst, info.InputHeight, info.InputWidth));
        Assert.Equal([-1, 3, 8, 6], info.InputShape);
        Assert.Equal([-1, 2], info.OutputShape);
    }

    [Fact]
    public void A_synthetic_float16_model_with_fixed_batch_reports_both()
    {
        var info = OnnxModelInspector.Inspect(SyntheticModels.SquareBrightness(8, 8, (0, 0, 4, 4), float16Input: true, fixedBatch: true));

        Assert.Equal(TensorElementKind.Float16, info.InputType);
        Assert.Equal(TensorElementKind.Float32, info.OutputType);
        Assert.True(info.BatchIsFixed);
    }

    [Fact]
    public void Garbage_bytes_are_not_an_ONNX_model()
    {
        var garbage = new byte[4096];
        new Random(7).NextBytes(garbage);

        var e = Assert.Throws<InvalidModelException>(() => OnnxModelInspector.Inspect(garbage));
        Assert.StartsWith("the uploaded bytes are not an ONNX model", e.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Empty_or_text_bytes_are_not_an_ONNX_model(int which)
    {
        byte[] bytes = which == 0 ? [] : "hello, I am a JPEG"u8.ToArray();

        var e = Assert.Throws<InvalidModelException>(() => OnnxModelInspector.Inspect(bytes));
        Assert.StartsWith("the uploaded bytes are not an ONNX model", e.Message);
    }

    [Fact]
    public void A_truncated_model_is_rejected()
    {
        var bytes = File.ReadAllBytes(SharedData.Model("squeezenet1.0-fp32.onnx"));

        var e = Assert.Throws<InvalidModelException>(() => OnnxModelInspector.Inspect(bytes[..(bytes.Length / 2)]));
        Assert.StartsWith("the uploaded bytes are not an ONNX model", e.Message);
    }

    [Fact]
    public void A_model_whose_input_has_one_channel_is_rejected_with_its_shape()
    {
        // A Linear model over [N,3,H,W] edited to claim [N,1,H,W]: the inspector reads the declared input only.
        var model = Onnx.ModelProto.Parser.ParseFrom(SyntheticModels.SquareBrightness(4, 4, (0, 0, 2, 2)));
        model.Graph.Input[0].Type.TensorType.Shape.Dim[1].DimValue = 1;

        var e = Assert.Throws<InvalidModelException>(() => OnnxModelInspector.Inspect(Google.Protobuf.MessageExtensions.ToByteArray(model)));
        Assert.Contains("3 colour channels", e.Message);
        Assert.Contains("[?,1,4,4]", e.Message);
    }

    [Fact]
    public void A_model_with_an_integer_input_is_rejected()
    {
        var model = Onnx.ModelProto.Parser.ParseFrom(SyntheticModels.SquareBrightness(4, 4, (0, 0, 2, 2)));
        model.Graph.Input[0].Type.TensorType.ElemType = (int)Onnx.TensorProto.Types.DataType.Uint8;

        var e = Assert.Throws<InvalidModelException>(() => OnnxModelInspector.Inspect(Google.Protobuf.MessageExtensions.ToByteArray(model)));
        Assert.Contains("uint8", e.Message);
        Assert.Contains("float32 and float16", e.Message);
    }
}
