using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Lantern.Gradients.Graph;

/// <summary>
/// Float16 models are differentiated in float32: half precision loses small gradients, and one element type keeps the
/// backward graph simple. Weights, Constant values, Cast targets and the graph's declared types all become float32.
/// </summary>
internal static class Float16
{
    /// <summary>Returns whether anything was float16.</summary>
    public static bool ConvertToFloat32(GraphProto graph)
    {
        var changed = false;
        for (var i = 0; i < graph.Initializer.Count; i++)
            if (IsHalf(graph.Initializer[i].DataType))
            {
                graph.Initializer[i] = Tensors.ToFloat32(graph.Initializer[i]);
                changed = true;
            }
        foreach (var node in graph.Node)
            foreach (var attribute in node.Attribute)
            {
                if (attribute.T is { } tensor && IsHalf(tensor.DataType))
                {
                    attribute.T = Tensors.ToFloat32(tensor);
                    changed = true;
                }
                if (node.OpType == "Cast" && attribute.Name == "to" && IsHalf((int)attribute.I))
                {
                    attribute.I = (int)DataType.Float;
                    changed = true;
                }
            }
        foreach (var value in graph.Input.Concat(graph.Output).Concat(graph.ValueInfo))
            if (value.Type?.TensorType is { } type && IsHalf(type.ElemType))
            {
                type.ElemType = (int)DataType.Float;
                changed = true;
            }
        return changed;
    }

    private static bool IsHalf(int dataType) => dataType is (int)DataType.Float16 or (int)DataType.Bfloat16;
}
