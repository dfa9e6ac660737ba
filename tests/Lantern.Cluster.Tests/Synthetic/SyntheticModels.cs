using Onnx;
using static Lantern.Samples.OnnxParts;

namespace Lantern.Cluster.Tests.Synthetic;

/// <summary>
/// ONNX classifiers whose right answer is known by construction, so explanations of them can be checked exactly.
/// Each is a linear map of the raw input tensor: input "image" [N,3,H,W], output "scores" [N,K] float32.
/// </summary>
public static class SyntheticModels
{
    public const string InputName = Lantern.Samples.OnnxParts.InputName;
    public const string OutputName = Lantern.Samples.OnnxParts.OutputName;
    private const string Producer = "Lantern.Cluster.Tests.SyntheticModels";

    /// <summary>
    /// scores = Flatten(image) · W + b with W [3*H*W, K]; <paramref name="weightsPerClass"/>[k] holds class k's weights
    /// in CHW order. Opset 13, IR 7. The batch dim is the symbol "N" unless <paramref name="fixedBatch"/> makes it 1;
    /// <paramref name="float16Input"/> makes the input float16, cast to float32 inside the graph.
    /// </summary>
    public static byte[] Linear(int height, int width, float[][] weightsPerClass, float[]? bias = null,
        bool float16Input = false, bool fixedBatch = false)
    {
        ArgumentNullException.ThrowIfNull(weightsPerClass);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        var classes = weightsPerClass.Length;
        if (classes == 0) throw new ArgumentException("at least one class is needed", nameof(weightsPerClass));
        var features = 3 * height * width;
        foreach (var w in weightsPerClass)
        {
            if (w.Length != features)
                throw new ArgumentException($"each class needs {features} weights (3x{height}x{width}), got {w.Length}", nameof(weightsPerClass));
        }
        bias ??= new float[classes];
        if (bias.Length != classes) throw new ArgumentException($"bias needs {classes} values, got {bias.Length}", nameof(bias));

        // Gemm wants B as [features, classes], row-major.
        var matrix = new float[features * classes];
        for (var k = 0; k < classes; k++)
            for (var f = 0; f < features; f++)
                matrix[f * classes + k] = weightsPerClass[k][f];

        var graph = new GraphProto { Name = "synthetic_linear" };
        var batch = fixedBatch ? Dim(1) : Dim("N");
        graph.Input.Add(Value(InputName, float16Input ? TensorProto.Types.DataType.Float16 : TensorProto.Types.DataType.Float,
            batch, Dim(3), Dim(height), Dim(width)));
        graph.Output.Add(Value(OutputName, TensorProto.Types.DataType.Float, fixedBatch ? Dim(1) : Dim("N"), Dim(classes)));
        graph.Initializer.Add(FloatTensor("W", matrix, features, classes));
        graph.Initializer.Add(FloatTensor("b", bias, classes));

        var x = InputName;
        if (float16Input)
        {
            graph.Node.Add(Node("Cast", [x], ["image_f32"], Int("to", (long)TensorProto.Types.DataType.Float)));
            x = "image_f32";
        }
        graph.Node.Add(Node("Flatten", [x], ["flat"], Int("axis", 1)));
        graph.Node.Add(Node("Gemm", ["flat", "W", "b"], [OutputName]));

        return Serialize(graph, Producer);
    }

    /// <summary><see cref="Linear(int,int,float[][],float[],bool,bool)"/> with weights given as [k][c, y, x].</summary>
    public static byte[] Linear(int height, int width, Func<int, int, int, int, float> weight, int classes,
        float[]? bias = null, bool float16Input = false, bool fixedBatch = false)
    {
        ArgumentNullException.ThrowIfNull(weight);
        var perClass = new float[classes][];
        for (var k = 0; k < classes; k++)
        {
            perClass[k] = new float[3 * height * width];
            for (var c = 0; c < 3; c++)
                for (var y = 0; y < height; y++)
                    for (var x = 0; x < width; x++)
                        perClass[k][(c * height + y) * width + x] = weight(k, c, y, x);
        }
        return Linear(height, width, perClass, bias, float16Input, fixedBatch);
    }

    /// <summary>
    /// Class 0 = mean over the 3 channels of the input-tensor pixels inside <paramref name="square"/>,
    /// class 1 = the same mean over the rest of the image (0 when the square covers everything).
    /// </summary>
    public static byte[] SquareBrightness(int height, int width, (int X, int Y, int Width, int Height) square,
        bool float16Input = false, bool fixedBatch = false)
    {
        if (square.Width < 1 || square.Height < 1 || square.X < 0 || square.Y < 0
            || square.X + square.Width > width || square.Y + square.Height > height)
        {
            throw new ArgumentException($"square {square} does not lie inside the {width}x{height} input", nameof(square));
        }
        var inside = square.Width * square.Height;
        var outside = height * width - inside;
        bool In(int y, int x) => x >= square.X && x < square.X + square.Width && y >= square.Y && y < square.Y + square.Height;
        return Linear(height, width, (k, _, y, x) => (k, In(y, x)) switch
        {
            (0, true) => 1f / (3 * inside),
            (1, false) => 1f / (3 * outside),
            _ => 0f,
        }, classes: 2, float16Input: float16Input, fixedBatch: fixedBatch);
    }

    /// <summary>The feature layer of <see cref="RegionCnn"/>: [N,4,H,W], what Grad-CAM picks by default.</summary>
    public const string FeatureLayer = "features";

    /// <summary>
    /// A small CNN that only sees one region: the input is multiplied by a 0/1 mask of <paramref name="region"/>, then a
    /// 1×1 convolution without bias (3→4 channels, positive weights) and ReLU give the feature layer, then global average
    /// pooling, Flatten and Gemm (4→2, class 0 weights positive, class 1 mixed) give the scores. Every path from a pixel
    /// outside the region to a score is multiplied by 0, so its gradient, and the features there, are exactly zero.
    /// For positive inputs (0–255 pixels) class 0's score grows with the region's brightness.
    /// </summary>
    public static byte[] RegionCnn(int height, int width, (int X, int Y, int Width, int Height) region)
    {
        var mask = new float[height * width];
        for (var y = region.Y; y < region.Y + region.Height; y++)
            for (var x = region.X; x < region.X + region.Width; x++)
                mask[y * width + x] = 1;
        float[] convWeights = [0.5f, 0.2f, 0.1f, 0.1f, 0.6f, 0.2f, 0.3f, 0.3f, 0.3f, 0.05f, 0.1f, 0.9f]; // [4,3,1,1]
        float[] head = [0.02f, -0.01f, 0.01f, 0.03f, 0.015f, 0.02f, 0.005f, -0.02f]; // Gemm B [4,2]: class 0 all positive

        var graph = new GraphProto { Name = "synthetic_region_cnn" };
        graph.Input.Add(Value(InputName, TensorProto.Types.DataType.Float, Dim("N"), Dim(3), Dim(height), Dim(width)));
        graph.Output.Add(Value(OutputName, TensorProto.Types.DataType.Float, Dim("N"), Dim(2)));
        graph.Initializer.Add(FloatTensor("mask", mask, 1, 1, height, width));
        graph.Initializer.Add(FloatTensor("conv_w", convWeights, 4, 3, 1, 1));
        graph.Initializer.Add(FloatTensor("head_w", head, 4, 2));
        graph.Initializer.Add(FloatTensor("head_b", [0.1f, -0.1f], 2));
        graph.Node.Add(Node("Mul", [InputName, "mask"], ["masked"]));
        graph.Node.Add(Node("Conv", ["masked", "conv_w"], ["conv"]));
        graph.Node.Add(Node("Relu", ["conv"], [FeatureLayer]));
        graph.Node.Add(Node("GlobalAveragePool", [FeatureLayer], ["pooled"]));
        graph.Node.Add(Node("Flatten", ["pooled"], ["flat"], Int("axis", 1)));
        graph.Node.Add(Node("Gemm", ["flat", "head_w", "head_b"], [OutputName]));
        return Serialize(graph, Producer);
    }

    /// <summary>
    /// A model with a known cost and a useless answer, for scheduling tests that need the worker, not the job bookkeeping,
    /// to be the bottleneck: a 3×3 convolution (3→<paramref name="channels"/>, padding 1) and ReLU over the whole image,
    /// global average pooling and Gemm to 2 classes; about H·W·<paramref name="channels"/>·27 multiply-adds per image.
    /// </summary>
    public static byte[] Busy(int height, int width, int channels)
    {
        var conv = Enumerable.Range(0, channels * 27).Select(i => (i % 7 - 3) / 30f).ToArray();
        var head = Enumerable.Range(0, channels * 2).Select(i => (i % 5 - 2) / 10f).ToArray();
        var graph = new GraphProto { Name = "synthetic_busy" };
        graph.Input.Add(Value(InputName, TensorProto.Types.DataType.Float, Dim("N"), Dim(3), Dim(height), Dim(width)));
        graph.Output.Add(Value(OutputName, TensorProto.Types.DataType.Float, Dim("N"), Dim(2)));
        graph.Initializer.Add(FloatTensor("conv_w", conv, channels, 3, 3, 3));
        graph.Initializer.Add(FloatTensor("head_w", head, channels, 2));
        graph.Initializer.Add(FloatTensor("head_b", [0f, 0f], 2));
        graph.Node.Add(Node("Conv", [InputName, "conv_w"], ["conv"], Ints("pads", 1, 1, 1, 1)));
        graph.Node.Add(Node("Relu", ["conv"], ["features"]));
        graph.Node.Add(Node("GlobalAveragePool", ["features"], ["pooled"]));
        graph.Node.Add(Node("Flatten", ["pooled"], ["flat"], Int("axis", 1)));
        graph.Node.Add(Node("Gemm", ["flat", "head_w", "head_b"], [OutputName]));
        return Serialize(graph, Producer);
    }

    /// <summary>A model that is not explainable, for the registry's checks: how it is broken is <paramref name="kind"/>.</summary>
    /// <remarks>
    /// "two-inputs": a second graph input added to the image; "unknown-op": a node of an operator no ONNX Runtime has;
    /// "fails-at-run-time": a Reshape to 7 values per image, which loads but fails as soon as an image of any size runs.
    /// </remarks>
    /// <remarks>"free-size": not broken, an input of any height and width ("H", "W"), whose scores are the first two channel means.</remarks>
    public static byte[] Broken(int height, int width, string kind)
    {
        var graph = new GraphProto { Name = $"synthetic_broken_{kind}" };
        graph.Input.Add(kind == "free-size"
            ? Value(InputName, TensorProto.Types.DataType.Float, Dim("N"), Dim(3), Dim("H"), Dim("W"))
            : Value(InputName, TensorProto.Types.DataType.Float, Dim("N"), Dim(3), Dim(height), Dim(width)));
        graph.Output.Add(Value(OutputName, TensorProto.Types.DataType.Float, Dim("N"), Dim(2)));
        graph.Node.Add(Node("ReduceMean", [InputName], ["mean"], Ints("axes", 2, 3), Int("keepdims", 0)));
        switch (kind)
        {
            case "two-inputs":
                graph.Input.Add(Value("bias", TensorProto.Types.DataType.Float, Dim("N"), Dim(3)));
                graph.Node.Add(Node("Add", ["mean", "bias"], ["biased"]));
                graph.Node.Add(Node("Slice", ["biased", "starts", "ends", "axes"], [OutputName]));
                break;
            case "unknown-op":
                graph.Node.Add(Node("NoSuchOperator", ["mean"], ["odd"]));
                graph.Node.Add(Node("Slice", ["odd", "starts", "ends", "axes"], [OutputName]));
                break;
            case "fails-at-run-time":
                graph.Initializer.Add(new TensorProto { Name = "seven", DataType = (int)TensorProto.Types.DataType.Int64, Dims = { 2 }, Int64Data = { -1, 7 } });
                graph.Node.Add(Node("Reshape", ["mean", "seven"], ["reshaped"]));
                graph.Node.Add(Node("Slice", ["reshaped", "starts", "ends", "axes"], [OutputName]));
                break;
            case "free-size":
                graph.Node.Add(Node("Slice", ["mean", "starts", "ends", "axes"], [OutputName]));
                break;
            default:
                throw new ArgumentException($"unknown kind {kind}", nameof(kind));
        }
        foreach (var (name, value) in new[] { ("starts", 0L), ("ends", 2L), ("axes", 1L) })
            graph.Initializer.Add(new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64, Dims = { 1 }, Int64Data = { value } });
        return Serialize(graph, Producer);
    }

    /// <summary>
    /// A per-pixel segmenter: 1×1 convolution (3→4, positive weights) and ReLU give "features", a second 1×1 convolution
    /// gives two class scores per pixel, output "scores" [N,2,H,W]. Each output pixel depends on its own input pixel only,
    /// so the gradient of a region's summed class score is zero outside the region.
    /// </summary>
    public static byte[] PixelSegmenter(int height, int width)
    {
        float[] first = [0.5f, 0.2f, 0.1f, 0.1f, 0.6f, 0.2f, 0.3f, 0.3f, 0.3f, 0.05f, 0.1f, 0.9f]; // [4,3,1,1]
        float[] second = [0.02f, -0.01f, 0.01f, 0.03f, 0.015f, 0.02f, 0.005f, 0.02f]; // [2,4,1,1]
        var graph = new GraphProto { Name = "synthetic_pixel_segmenter" };
        graph.Input.Add(Value(InputName, TensorProto.Types.DataType.Float, Dim("N"), Dim(3), Dim(height), Dim(width)));
        graph.Output.Add(Value(OutputName, TensorProto.Types.DataType.Float, Dim("N"), Dim(2), Dim(height), Dim(width)));
        graph.Initializer.Add(FloatTensor("w1", first, 4, 3, 1, 1));
        graph.Initializer.Add(FloatTensor("w2", second, 2, 4, 1, 1));
        graph.Node.Add(Node("Conv", [InputName, "w1"], ["conv1"]));
        graph.Node.Add(Node("Relu", ["conv1"], [FeatureLayer]));
        graph.Node.Add(Node("Conv", [FeatureLayer, "w2"], [OutputName]));
        return Serialize(graph, Producer);
    }

    /// <summary>
    /// A model of any input size ([N,3,H,W] with H and W symbolic): the 3 scores are the channel means
    /// (GlobalAveragePool, Flatten).
    /// </summary>
    public static byte[] FreeSizeChannelMeans()
    {
        var graph = new GraphProto { Name = "synthetic_free_size" };
        graph.Input.Add(Value(InputName, TensorProto.Types.DataType.Float, Dim("N"), Dim(3), Dim("H"), Dim("W")));
        graph.Output.Add(Value(OutputName, TensorProto.Types.DataType.Float, Dim("N"), Dim(3)));
        graph.Node.Add(Node("GlobalAveragePool", [InputName], ["pooled"]));
        graph.Node.Add(Node("Flatten", ["pooled"], [OutputName]));
        return Serialize(graph, Producer);
    }
}
