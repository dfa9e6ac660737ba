using Onnx;

namespace Lantern.Gradients.Graph;

/// <summary>
/// A Squeeze without axes drops every 1-dim, and at the probe's batch of 1 that includes the batch, so the probed
/// shapes lose it and the gradient model breaks for any other batch. Such a Squeeze of a batch-carrying tensor gets
/// explicit axes: the non-batch axes of size 1, as it squeezes at any batch above 1.
/// </summary>
internal static class SqueezeAxes
{
    /// <summary>Rewrites the prepared graph in place (idempotent); each Squeeze's input is probed with the ones before it already explicit.</summary>
    public static void MakeExplicit(PreparedModel prepared, long[] inputShape)
    {
        var graph = prepared.Model.Graph;
        var names = new Names(PreparedModel.NamePrefix + "fwd/squeeze/");
        var carriesBatch = GradientPath.DependentsOf(graph, [prepared.InputName]);
        while (graph.Node.FirstOrDefault(n => IsWithoutAxes(n) && carriesBatch.Contains(n.Input[0])) is { } squeeze)
        {
            var x = squeeze.Input[0];
            var shape = x == prepared.InputName ? inputShape : ShapeProbe.Run(prepared, inputShape, [x])[x];
            var axes = Enumerable.Range(1, shape.Length - 1).Where(a => shape[a] == 1).Select(a => (long)a).ToArray();
            while (squeeze.Input.Count > 1) squeeze.Input.RemoveAt(squeeze.Input.Count - 1);
            if (axes.Length == 0)
            {
                squeeze.OpType = "Identity";
                continue;
            }
            var name = names.Fresh("axes");
            graph.Initializer.Add(Tensors.Int64s(name, [axes.Length], axes));
            squeeze.Input.Add(name);
        }
    }

    // After the opset upgrade the axes, if any, are the second input.
    private static bool IsWithoutAxes(NodeProto node) =>
        node.OpType == "Squeeze" && node.Domain is "" or "ai.onnx" && (node.Input.Count < 2 || node.Input[1].Length == 0);
}
