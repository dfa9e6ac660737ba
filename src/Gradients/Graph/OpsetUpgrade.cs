using Onnx;

namespace Lantern.Gradients.Graph;

/// <summary>
/// Rewrites forward nodes from older ai.onnx opsets to their opset-17 form, so the backward rules and the nodes they
/// emit use one set of op signatures. Only ops whose signature or meaning changed are touched.
/// </summary>
internal static class OpsetUpgrade
{
    public const long TargetOpset = 17;

    public static void Upgrade(GraphProto graph, long fromOpset, Names names)
    {
        if (fromOpset >= TargetOpset) return;
        var upgraded = new List<NodeProto>(graph.Node.Count);
        foreach (var node in graph.Node)
        {
            if (node.Domain is not ("" or "ai.onnx"))
            {
                upgraded.Add(node);
                continue;
            }
            node.Remove("consumed_inputs"); // opset < 6 bookkeeping, meaningless since
            upgraded.AddRange(UpgradeNode(node, fromOpset, graph, names));
        }
        graph.Node.Clear();
        graph.Node.AddRange(upgraded);
    }

    private static IEnumerable<NodeProto> UpgradeNode(NodeProto node, long opset, GraphProto graph, Names names)
    {
        switch (node.OpType)
        {
            case "Clip" when opset < 11:
            {
                var min = node.Find("min");
                var max = node.Find("max");
                node.Remove("min");
                node.Remove("max");
                SetInput(node, 1, min is null ? "" : AddFloatScalar(graph, names, "clip_min", min.F));
                SetInput(node, 2, max is null ? "" : AddFloatScalar(graph, names, "clip_max", max.F));
                TrimEmptyInputs(node);
                return [node];
            }
            case "Pad" when opset < 11:
            {
                var pads = node.GetInts("pads") ?? node.GetInts("paddings") ?? [];
                var value = node.GetFloat("value", 0f);
                node.Remove("pads");
                node.Remove("paddings");
                node.Remove("value");
                SetInput(node, 1, AddInts(graph, names, "pads", pads));
                SetInput(node, 2, AddFloatScalar(graph, names, "pad_value", value));
                return [node];
            }
            case "Slice" when opset < 10:
            {
                var starts = node.GetInts("starts") ?? [];
                var ends = node.GetInts("ends") ?? [];
                var axes = node.GetInts("axes");
                foreach (var attribute in new[] { "starts", "ends", "axes" }) node.Remove(attribute);
                SetInput(node, 1, AddInts(graph, names, "starts", starts));
                SetInput(node, 2, AddInts(graph, names, "ends", ends));
                if (axes is not null) SetInput(node, 3, AddInts(graph, names, "axes", axes));
                return [node];
            }
            case "Squeeze" or "Unsqueeze" or "ReduceSum" when opset < 13:
            {
                var axes = node.GetInts("axes");
                node.Remove("axes");
                if (axes is not null) SetInput(node, 1, AddInts(graph, names, "axes", axes));
                return [node];
            }
            case "Split" when opset < 13:
            {
                var split = node.GetInts("split");
                node.Remove("split");
                if (split is not null) SetInput(node, 1, AddInts(graph, names, "split", split));
                return [node];
            }
            case "Reshape" when opset < 5:
            {
                var shape = node.GetInts("shape") ?? [];
                node.Remove("shape");
                SetInput(node, 1, AddInts(graph, names, "shape", shape));
                return [node];
            }
            case "Upsample" or "Resize" when opset < 11:
                return [OldResize(node, opset, graph, names)];
            case "Softmax" or "LogSoftmax" or "Hardmax" when opset < 13:
                return OldSoftmax(node, names);
            case "BatchNormalization":
            {
                if (opset < 7 && node.GetInt("spatial", 1) == 0)
                    throw new UnsupportedModelException($"BatchNormalization (node '{node.Describe()}') uses spatial=0, which Lantern does not support");
                node.Remove("spatial");
                node.Remove("is_test");
                while (node.Output.Count > 1) node.Output.RemoveAt(node.Output.Count - 1);
                return [node];
            }
            case "Dropout":
            {
                var identity = new NodeProto { OpType = "Identity", Name = node.Name };
                identity.Input.Add(node.Input[0]);
                identity.Output.Add(node.Output[0]);
                return [identity];
            }
            case "Add" or "Sub" or "Mul" or "Div" or "Gemm" or "Sum" or "Max" or "Min" or "Pow" or "PRelu" or "Equal" or "Greater" or "Less" or "And" or "Or" when opset < 7:
                if (node.Find("axis") is not null && node.GetInt("broadcast", 0) == 1)
                    throw new UnsupportedModelException($"{node.OpType} (node '{node.Describe()}') uses the pre-opset-7 axis broadcast, which Lantern does not support; re-export the model with opset 7 or later");
                node.Remove("broadcast");
                return [node];
            default:
                return [node];
        }
    }

    /// <summary>
    /// Before opset 13, Softmax coerced its input to 2-D at <c>axis</c> (default 1) and normalised over everything
    /// after it; opset 13 normalises over one axis. Flatten → Softmax(last) → Reshape keeps the old meaning for any rank.
    /// </summary>
    private static IEnumerable<NodeProto> OldSoftmax(NodeProto node, Names names)
    {
        var axis = node.GetInt("axis", 1);
        var input = node.Input[0];
        var flat = names.Fresh("softmax_2d");
        var normalised = names.Fresh("softmax_2d_out");
        var shape = names.Fresh("softmax_shape");
        var flatten = new NodeProto { OpType = "Flatten", Name = names.Fresh("flatten") };
        flatten.Input.Add(input);
        flatten.Output.Add(flat);
        flatten.Attribute.Add(Attributes.Int("axis", axis));
        var softmax = new NodeProto { OpType = node.OpType, Name = node.Name };
        softmax.Input.Add(flat);
        softmax.Output.Add(normalised);
        softmax.Attribute.Add(Attributes.Int("axis", -1));
        var shapeOf = new NodeProto { OpType = "Shape", Name = names.Fresh("shape") };
        shapeOf.Input.Add(input);
        shapeOf.Output.Add(shape);
        var reshape = new NodeProto { OpType = "Reshape", Name = names.Fresh("reshape") };
        reshape.Input.Add(normalised);
        reshape.Input.Add(shape);
        reshape.Output.Add(node.Output[0]);
        return [flatten, softmax, shapeOf, reshape];
    }

    /// <summary>
    /// Upsample (7–9) and Resize-10 become Resize(X, "", scales). They had no coordinate_transformation_mode: ONNX
    /// Runtime maps coordinates asymmetrically, and in nearest mode truncates where an axis grows and rounds up where it
    /// shrinks (upsamplebase.h, SIMPLE), which is nearest_mode floor or ceil as long as no node does both.
    /// </summary>
    private static NodeProto OldResize(NodeProto node, long opset, GraphProto graph, Names names)
    {
        if (opset < 7) throw new UnsupportedModelException($"{node.OpType} (node '{node.Describe()}') is from opset {opset}; re-export the model with opset 7 or later");
        var attribute = node.GetFloats("scales");
        node.Remove("scales");
        var scales = attribute is not null ? AddFloats(graph, names, "scales", attribute) : node.Input[1];
        var x = node.Input[0];
        node.OpType = "Resize";
        node.Input.Clear();
        node.Input.AddRange([x, "", scales]);
        node.Set(Attributes.String("coordinate_transformation_mode", "asymmetric"));
        if ((node.GetString("mode") ?? "nearest") == "nearest")
        {
            var values = attribute ?? ConstantFloats(graph, scales);
            if (values is null && opset >= 10)
                throw new UnsupportedModelException($"Resize (node '{node.Describe()}') of opset 10 has computed scales, which Lantern cannot normalise");
            var shrinks = values?.Any(s => s < 1) ?? false; // Upsample never shrinks
            if (shrinks && values!.Any(s => s > 1))
                throw new UnsupportedModelException($"Resize (node '{node.Describe()}') of opset 10 grows one axis and shrinks another, which Lantern cannot normalise");
            node.Set(Attributes.String("nearest_mode", shrinks ? "ceil" : "floor"));
        }
        return node;
    }

    private static float[]? ConstantFloats(GraphProto graph, string name)
    {
        if (graph.Initializer.FirstOrDefault(i => i.Name == name) is { } initializer) return Tensors.ReadFloats(initializer);
        return graph.Node.FirstOrDefault(n => n.OpType == "Constant" && n.Output.Contains(name))?.Find("value") is { T: { } value }
            ? Tensors.ReadFloats(value)
            : null;
    }

    private static string AddFloats(GraphProto graph, Names names, string hint, float[] values)
    {
        var name = names.Fresh(hint);
        graph.Initializer.Add(Tensors.Floats(name, [values.Length], values));
        return name;
    }

    private static void SetInput(NodeProto node, int position, string name)
    {
        while (node.Input.Count <= position) node.Input.Add("");
        node.Input[position] = name;
    }

    private static void TrimEmptyInputs(NodeProto node)
    {
        while (node.Input.Count > 1 && node.Input[^1].Length == 0) node.Input.RemoveAt(node.Input.Count - 1);
    }

    private static string AddInts(GraphProto graph, Names names, string hint, long[] values)
    {
        var name = names.Fresh(hint);
        graph.Initializer.Add(Tensors.Int64s(name, [values.Length], values));
        return name;
    }

    private static string AddFloatScalar(GraphProto graph, Names names, string hint, float value)
    {
        var name = names.Fresh(hint);
        graph.Initializer.Add(Tensors.Floats(name, [], [value]));
        return name;
    }
}
