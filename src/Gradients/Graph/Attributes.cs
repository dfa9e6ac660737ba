using Onnx;
using AttributeType = Onnx.AttributeProto.Types.AttributeType;

namespace Lantern.Gradients.Graph;

/// <summary>Building and reading node attributes.</summary>
internal static class Attributes
{
    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeType.Float, F = value };

    public static AttributeProto Ints(string name, IEnumerable<long> values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    public static AttributeProto String(string name, string value) =>
        new() { Name = name, Type = AttributeType.String, S = Google.Protobuf.ByteString.CopyFromUtf8(value) };

    public static AttributeProto Tensor(string name, TensorProto value) => new() { Name = name, Type = AttributeType.Tensor, T = value };

    public static AttributeProto? Find(this NodeProto node, string name) => node.Attribute.FirstOrDefault(a => a.Name == name);

    public static long GetInt(this NodeProto node, string name, long fallback) => node.Find(name) is { } a ? a.I : fallback;

    public static float GetFloat(this NodeProto node, string name, float fallback) => node.Find(name) is { } a ? a.F : fallback;

    public static long[]? GetInts(this NodeProto node, string name) => node.Find(name) is { } a ? a.Ints.ToArray() : null;

    public static float[]? GetFloats(this NodeProto node, string name) => node.Find(name) is { } a ? a.Floats.ToArray() : null;

    public static string? GetString(this NodeProto node, string name) => node.Find(name) is { } a ? a.S.ToStringUtf8() : null;

    public static void Remove(this NodeProto node, string name)
    {
        for (var i = node.Attribute.Count - 1; i >= 0; i--)
            if (node.Attribute[i].Name == name) node.Attribute.RemoveAt(i);
    }

    public static void Set(this NodeProto node, AttributeProto attribute)
    {
        node.Remove(attribute.Name);
        node.Attribute.Add(attribute);
    }

    /// <summary>How a node is named in messages: its name, or its first output when it has none.</summary>
    public static string Describe(this NodeProto node) => node.Name.Length > 0 ? node.Name : $"{node.OpType} -> {node.Output.FirstOrDefault()}";
}
