using Lantern.Gradients.Graph;
using Onnx;

namespace Lantern.Gradients;

/// <summary>The classifier head CAM (Zhou et al. 2016) reads: class score = Σ_c W[class, c]·mean(layer_c) + bias[class].</summary>
public sealed record CamHeadWeights(int Classes, int Channels, float[] Weights, float[] Bias);

public static class CamHead
{
    private static readonly HashSet<string> ShapeOnly = new(StringComparer.Ordinal) { "Flatten", "Reshape", "Squeeze", "Identity", "Dropout" };

    /// <summary>
    /// The per-class weights [classes × C] (row-major) and bias when <paramref name="layerName"/> is followed by a
    /// global average pool (GlobalAveragePool, or ReduceMean over H,W), shape-only ops and a Gemm or MatMul(+Add)
    /// classifier; identity weights when the pooled channels are the class scores (SqueezeNet). Null for any other head.
    /// </summary>
    public static CamHeadWeights? Find(byte[] onnxModel, string layerName, long[]? inputShape = null)
    {
        var prepared = PreparedModel.From(onnxModel);
        var index = new GraphIndex(prepared.Model.Graph);
        if (!index.Exists(layerName))
            throw new UnsupportedModelException($"the model has no tensor named '{layerName}'; run `lantern inspect MODEL` to list its layers");
        // A ReLU (or the same ReLU6 clip) after the pool changes nothing when the layer is already rectified: the mean of
        // values in [0, 6] stays there. Dequantized QDQ models carry one from the quantized range.
        var layerIsRectified = index.Producer(layerName)?.OpType is "Relu" or "Clip";
        foreach (var pool in index.Consumers(layerName).Where(IsSpatialMean(index)))
        {
            var pooled = pool.Output[0];
            while (ValueConsumers(index, pooled) is [{ } next] && (ShapeOnly.Contains(next.OpType) || (layerIsRectified && next.OpType is "Relu" or "Clip")))
                pooled = next.Output[0];
            var consumers = ValueConsumers(index, pooled);
            if (consumers.Count == 0 || consumers is [{ OpType: "Softmax" or "LogSoftmax" }])
            {
                if (consumers.Count == 0 && !index.IsGraphOutput(pooled)) continue;
                var channels = (int)ShapeProbe.Run(prepared, GradientModelBuilder.ProbeInputShape(prepared, inputShape))[layerName][1];
                var identity = new float[channels * channels];
                for (var c = 0; c < channels; c++) identity[c * channels + c] = 1f;
                return new CamHeadWeights(channels, channels, identity, new float[channels]);
            }
            if (consumers is not [var classifier]) continue;
            if (Classifier(index, classifier, pooled) is { } head) return head;
        }
        return null;
    }

    /// <summary>Consumers that read the values, not just the shape (exporters compute Reshape targets from Shape(x)).</summary>
    private static List<NodeProto> ValueConsumers(GraphIndex index, string tensor) =>
        index.Consumers(tensor).Where(n => n.OpType is not ("Shape" or "Size")).ToList();

    private static Func<NodeProto, bool> IsSpatialMean(GraphIndex index) => node => node.OpType switch
    {
        "GlobalAveragePool" => true,
        "ReduceMean" => (node.GetInts("axes") ?? (node.Input.Count > 1 ? index.ConstantInts(node.Input[1]) : null)) is { } axes
            && axes.Select(a => a < 0 ? a + 4 : a).Order().SequenceEqual([2L, 3L]),
        _ => false,
    };

    private static CamHeadWeights? Classifier(GraphIndex index, NodeProto node, string pooled)
    {
        if (node.OpType == "Gemm" && node.Input[0] == pooled && node.GetInt("transA", 0) == 0
            && index.Constant(node.Input[1]) is { Dims.Count: 2 } b)
        {
            var alpha = node.GetFloat("alpha", 1f);
            var transB = node.GetInt("transB", 0) == 1;
            var (classes, channels) = transB ? ((int)b.Dims[0], (int)b.Dims[1]) : ((int)b.Dims[1], (int)b.Dims[0]);
            var weights = ClassMajor(Tensors.ReadFloats(b), classes, channels, transB).Select(w => w * alpha).ToArray();
            var bias = new float[classes];
            if (node.Input.Count > 2 && node.Input[2].Length > 0)
            {
                if (index.ConstantFloats(node.Input[2]) is not { } c) return null;
                var beta = node.GetFloat("beta", 1f);
                for (var k = 0; k < classes; k++) bias[k] = beta * c[c.Length == 1 ? 0 : k];
            }
            return new CamHeadWeights(classes, channels, weights, bias);
        }
        if (node.OpType == "MatMul" && node.Input[0] == pooled && index.Constant(node.Input[1]) is { Dims.Count: 2 } matrix)
        {
            var (channels, classes) = ((int)matrix.Dims[0], (int)matrix.Dims[1]);
            var weights = ClassMajor(Tensors.ReadFloats(matrix), classes, channels, classMajor: false);
            var bias = new float[classes];
            var product = node.Output[0];
            while (ValueConsumers(index, product) is [{ OpType: "Identity" } identity]) product = identity.Output[0];
            if (ValueConsumers(index, product) is [{ OpType: "Add" } add])
            {
                var other = add.Input[0] == product ? add.Input[1] : add.Input[0];
                if (index.ConstantFloats(other) is { } values && (values.Length == classes || values.Length == 1))
                    for (var k = 0; k < classes; k++) bias[k] = values[values.Length == 1 ? 0 : k];
            }
            return new CamHeadWeights(classes, channels, weights, bias);
        }
        return null;
    }

    private static float[] ClassMajor(float[] values, int classes, int channels, bool classMajor)
    {
        if (classMajor) return values;
        var transposed = new float[classes * channels];
        for (var c = 0; c < channels; c++)
            for (var k = 0; k < classes; k++) transposed[k * channels + c] = values[c * classes + k];
        return transposed;
    }
}
