using Onnx;
using static Lantern.Samples.OnnxParts;

namespace Lantern.Samples;

/// <summary>
/// Three small models whose right answer is the white rectangle of <see cref="TextureImages"/>: a classifier, a
/// regression head and a per-pixel segmenter. They share one feature layer, "features" [N,2,H,W], a 1×1 convolution and
/// ReLU of the raw 0–255 input: channel 0 is a pixel's whiteness, max(0, mean(R,G,B) − <see cref="WhiteThreshold"/>),
/// channel 1 its darkness, max(0, <see cref="WhiteThreshold"/> − mean(R,G,B)). The textures stay below the threshold, so
/// channel 0 is non-zero exactly on the rectangle, and every head below reads the rectangle through channel 0 alone
/// (the detector and the regression head give channel 1 a weight of 0).
/// </summary>
public static class RectangleModels
{
    /// <summary>The layer Grad-CAM picks by default in each model (the last 4-D activation before the head).</summary>
    public const string FeatureLayer = "features";

    /// <summary>A pixel whose channel mean is above this is "white"; pure white scores 255 − 220 = 35.</summary>
    public const float WhiteThreshold = 220f;

    private const string Producer = "Lantern.Samples";

    /// <summary>
    /// Class 0 "no rectangle", class 1 "white rectangle": logits ±(mean whiteness − 1) [N,2], so class 1 wins once
    /// about 3% of the image is pure white (1/35 of it). The LIME sample: the score of class 1 rises with the visible
    /// white area and nothing else.
    /// </summary>
    public static byte[] Detector(int height, int width)
    {
        var graph = Trunk("sample_rectangle_detector", height, width, Dim(2));
        // Gemm B is [features, classes]: class 0 = −whiteness, class 1 = +whiteness; darkness weighs 0.
        graph.Initializer.Add(FloatTensor("head_w", [-1f, 1f, 0f, 0f], 2, 2));
        graph.Initializer.Add(FloatTensor("head_b", [1f, -1f], 2));
        PoolAndGemm(graph);
        return Serialize(graph, Producer);
    }

    /// <summary>
    /// One scalar [N,1]: the fraction of the image that is white (mean whiteness / 35), so the rectangle's area over the
    /// image's area for a pure white rectangle. The Grad-CAM-on-regression sample.
    /// </summary>
    public static byte[] AreaRegressor(int height, int width)
    {
        var graph = Trunk("sample_rectangle_area", height, width, Dim(1));
        graph.Initializer.Add(FloatTensor("head_w", [1f / (255f - WhiteThreshold), 0f], 2, 1));
        graph.Initializer.Add(FloatTensor("head_b", [0f], 1));
        PoolAndGemm(graph);
        return Serialize(graph, Producer);
    }

    /// <summary>
    /// Per-pixel scores [N,2,H,W]: class 0 "texture" = 0.1 × (darkness − whiteness), class 1 "white rectangle" = its
    /// negative, so the argmax over classes is the rectangle's mask. The Grad-CAM-on-segmentation sample.
    /// </summary>
    public static byte[] Segmenter(int height, int width)
    {
        var graph = Trunk("sample_rectangle_segmenter", height, width, Dim(2), Dim(height), Dim(width));
        graph.Initializer.Add(FloatTensor("head_w", [-0.1f, 0.1f, 0.1f, -0.1f], 2, 2, 1, 1)); // [class, feature, 1, 1]
        graph.Node.Add(Node("Conv", [FeatureLayer, "head_w"], [OutputName]));
        return Serialize(graph, Producer);
    }

    /// <summary>Input, output declaration and the shared feature layer.</summary>
    private static GraphProto Trunk(string name, int height, int width, params TensorShapeProto.Types.Dimension[] outputDims)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        var graph = new GraphProto { Name = name };
        graph.Input.Add(Value(InputName, TensorProto.Types.DataType.Float, Dim("N"), Dim(3), Dim(height), Dim(width)));
        graph.Output.Add(Value(OutputName, TensorProto.Types.DataType.Float, [Dim("N"), .. outputDims]));
        const float third = 1f / 3f;
        graph.Initializer.Add(FloatTensor("trunk_w", [third, third, third, -third, -third, -third], 2, 3, 1, 1));
        graph.Initializer.Add(FloatTensor("trunk_b", [-WhiteThreshold, WhiteThreshold], 2));
        graph.Node.Add(Node("Conv", [InputName, "trunk_w", "trunk_b"], ["trunk"]));
        graph.Node.Add(Node("Relu", ["trunk"], [FeatureLayer]));
        return graph;
    }

    private static void PoolAndGemm(GraphProto graph)
    {
        graph.Node.Add(Node("GlobalAveragePool", [FeatureLayer], ["pooled"]));
        graph.Node.Add(Node("Flatten", ["pooled"], ["flat"], Int("axis", 1)));
        graph.Node.Add(Node("Gemm", ["flat", "head_w", "head_b"], [OutputName]));
    }
}
