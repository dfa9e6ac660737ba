using Lantern.Gradients.Graph;

namespace Lantern.Gradients;

/// <summary>The layers a user can name for Grad-CAM, Score-CAM or activations; what <c>lantern inspect MODEL</c> prints.</summary>
public static class LayerCatalog
{
    /// <summary>
    /// Every 4-D float activation [N,C,H,W] computed from the input, in graph order, per-example shape [C,H,W]. The default
    /// Grad-CAM layer is the last one with a spatial size above 1, as MATLAB's gradCAM picks its feature layer.
    /// </summary>
    public static IReadOnlyList<LayerInfo> List(byte[] onnxModel, long[]? inputShape = null)
    {
        var prepared = PreparedModel.From(onnxModel);
        var shapes = ShapeProbe.Run(prepared, GradientModelBuilder.ProbeInputShape(prepared, inputShape));
        var graph = prepared.Model.Graph;
        var dependents = GradientPath.DependentsOf(graph, [prepared.InputName]);
        var layers = new List<(string Name, string OpType, string NodeName, long[] Shape)>();
        foreach (var node in graph.Node)
            foreach (var output in node.Output)
                if (dependents.Contains(output) && !output.StartsWith(PreparedModel.NamePrefix, StringComparison.Ordinal)
                    && shapes.TryGetValue(output, out var shape) && shape.Length == 4)
                    layers.Add((output, node.OpType, node.Name, shape[1..]));
        // Only layers whose values (not just their shape) reach the output can explain it.
        var reachOutput = GradientPath.Find(graph, [prepared.InputName], prepared.FirstOutput).Tensors;
        var camLayer = layers.FindLastIndex(l => l.Shape[1] * l.Shape[2] > 1 && reachOutput.Contains(l.Name));
        return layers.Select((l, i) => new LayerInfo(l.Name, l.OpType, l.NodeName, l.Shape, i == camLayer)).ToList();
    }
}
