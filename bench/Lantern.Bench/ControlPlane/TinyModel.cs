using Google.Protobuf;
using Lantern.Contracts.Api;
using Onnx;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Lantern.Bench.ControlPlane;

/// <summary>
/// A model whose evaluation is nearly free, and the job shapes the control-plane bench runs on it. The model is the linear
/// classifier of the tests' <c>SyntheticModels.Linear</c> (copied, not referenced: bench never depends on the tests) on an
/// 8×8 input with one class: a Gemm of 192 weights, so a batch of 32 costs microseconds and what the bench measures is the
/// dispatcher, the job entity, the journal and the assembler. The image is larger than the model input and resized to it
/// ("stretch"): occluding a 1×1 window recomputes only the few tensor elements that sample it, so a perturbation costs a
/// copy of 192 floats, however many windows the image has. An image of S×S pixels gives S² perturbations, S²/32 work items.
/// </summary>
public static class TinyModel
{
    public const int InputSize = 8;
    private const string InputName = "image";
    private const string OutputName = "scores";

    /// <summary>scores[N,1] = Flatten(image[N,3,8,8]) · W + b, every weight 1/192 (the mean pixel). Opset 13, IR 7.</summary>
    public static byte[] Onnx()
    {
        const int features = 3 * InputSize * InputSize;
        var graph = new GraphProto { Name = "bench_tiny_linear" };
        graph.Input.Add(Value(InputName, Dim("N"), Dim(3), Dim(InputSize), Dim(InputSize)));
        graph.Output.Add(Value(OutputName, Dim("N"), Dim(1)));
        graph.Initializer.Add(FloatTensor("W", Enumerable.Repeat(1f / features, features).ToArray(), features, 1));
        graph.Initializer.Add(FloatTensor("b", [0f], 1));
        graph.Node.Add(Node("Flatten", [InputName], ["flat"], new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 }));
        graph.Node.Add(Node("Gemm", ["flat", "W", "b"], [OutputName]));
        var model = new ModelProto { IrVersion = 7, ProducerName = "Lantern.Bench.TinyModel", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        return model.ToByteArray();
    }

    /// <summary>
    /// A PNG of <paramref name="side"/>×<paramref name="side"/> pixels with a smooth pattern (so the scores differ between
    /// windows) that compresses well: a 5,657-pixel side (10⁶ items) uploads in a few MB.
    /// </summary>
    public static byte[] Image(int side)
    {
        using var image = new Image<Rgb24>(side, side);
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                var v = (byte)(64 + (y * 128 / side));
                for (var x = 0; x < row.Length; x++) row[x] = new Rgb24(v, (byte)(64 + (x * 128 / side)), 128);
            }
        });
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }

    /// <summary>The smallest square image side whose 1×1 windows fill <paramref name="items"/> work items of <paramref name="itemSize"/>.</summary>
    public static int SideFor(long items, int itemSize) => (int)Math.Ceiling(Math.Sqrt((double)items * itemSize));

    /// <summary>
    /// RISE with <paramref name="samples"/> masks on an image of the input's own size (8×8, no resampling): a perturbation
    /// costs a 2×2 mask upsampled over 64 pixels, so the work items cost the worker next to nothing and the job's rate is
    /// the control plane's own (the occlusion job's perturbations resample a large image, which paces it instead).
    /// </summary>
    public static SubmitJobRequest Rise(string modelSha256, string imageSha256, int samples)
    {
        var request = Occlusion(modelSha256, imageSha256);
        request.Rise = new RiseOptions { Samples = samples, Cells = 2, Density = 0.5f };
        return request;
    }

    /// <summary>Occlusion of every pixel (1×1 window, stride 1, zero fill), class 0, the image resized to the 8×8 input.</summary>
    public static SubmitJobRequest Occlusion(string modelSha256, string imageSha256, bool noCache = true)
    {
        var request = new SubmitJobRequest
        {
            ModelSha256 = modelSha256, ImageSha256 = imageSha256, NoCache = noCache,
            Preprocessing = new Preprocessing
            {
                Width = InputSize, Height = InputSize, Resize = "stretch", ChannelOrder = "rgb", Layout = "nchw", Scale = 1,
                Mean = { 0, 0, 0 }, Std = { 1, 1, 1 }, Output = "logits",
            },
            Targets = new Targets { Classes = { 0 } },
            Occlusion = new OcclusionOptions { Fill = new Fill { Kind = Fill.Types.Kind.Zero } },
        };
        request.Occlusion.Windows.Add(new Window { Height = 1, Width = 1, StrideY = 1, StrideX = 1 });
        return request;
    }

    private static ValueInfoProto Value(string name, params TensorShapeProto.Types.Dimension[] dims)
    {
        var shape = new TensorShapeProto();
        shape.Dim.AddRange(dims);
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    private static TensorShapeProto.Types.Dimension Dim(long value) => new() { DimValue = value };
    private static TensorShapeProto.Types.Dimension Dim(string param) => new() { DimParam = param };

    private static TensorProto FloatTensor(string name, float[] values, params long[] dims)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.AddRange(dims);
        tensor.FloatData.AddRange(values);
        return tensor;
    }

    private static NodeProto Node(string op, string[] inputs, string[] outputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = $"{op}_{outputs[0]}" };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        return node;
    }
}
