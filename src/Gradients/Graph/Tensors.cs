using System.Buffers.Binary;
using Google.Protobuf;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Lantern.Gradients.Graph;

/// <summary>Reading and writing the values of ONNX tensors (initializers and Constant values).</summary>
internal static class Tensors
{
    public static TensorProto Floats(string name, long[] dims, float[] values)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)DataType.Float };
        tensor.Dims.AddRange(dims);
        var bytes = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        tensor.RawData = ByteString.CopyFrom(bytes);
        return tensor;
    }

    public static TensorProto Int64s(string name, long[] dims, long[] values)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)DataType.Int64 };
        tensor.Dims.AddRange(dims);
        var bytes = new byte[values.Length * 8];
        for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * 8), values[i]);
        tensor.RawData = ByteString.CopyFrom(bytes);
        return tensor;
    }

    public static long ElementCount(TensorProto tensor) => tensor.Dims.Aggregate(1L, (a, d) => a * d);

    /// <summary>The values of a numeric tensor as doubles (exact for every type but the widest 64-bit integers).</summary>
    public static double[] ReadAsDoubles(TensorProto tensor)
    {
        if (tensor.DataLocation == TensorProto.Types.DataLocation.External)
            throw new UnsupportedModelException($"tensor '{tensor.Name}' keeps its data in an external file; save the model with its weights embedded");
        var count = (int)ElementCount(tensor);
        var values = new double[count];
        var raw = tensor.RawData.Span;
        var type = (DataType)tensor.DataType;
        if (!raw.IsEmpty)
        {
            for (var i = 0; i < count; i++)
                values[i] = type switch
                {
                    DataType.Float => BinaryPrimitives.ReadSingleLittleEndian(raw[(i * 4)..]),
                    DataType.Double => BinaryPrimitives.ReadDoubleLittleEndian(raw[(i * 8)..]),
                    DataType.Float16 => (double)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(raw[(i * 2)..])),
                    DataType.Int8 => (sbyte)raw[i],
                    DataType.Uint8 or DataType.Bool => raw[i],
                    DataType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(raw[(i * 2)..]),
                    DataType.Uint16 => BinaryPrimitives.ReadUInt16LittleEndian(raw[(i * 2)..]),
                    DataType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(raw[(i * 4)..]),
                    DataType.Uint32 => BinaryPrimitives.ReadUInt32LittleEndian(raw[(i * 4)..]),
                    DataType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(raw[(i * 8)..]),
                    DataType.Uint64 => BinaryPrimitives.ReadUInt64LittleEndian(raw[(i * 8)..]),
                    _ => throw new UnsupportedModelException($"tensor '{tensor.Name}' has element type {type}, which Lantern cannot read"),
                };
            return values;
        }
        for (var i = 0; i < count; i++)
            values[i] = type switch
            {
                DataType.Float => tensor.FloatData[i],
                DataType.Double => tensor.DoubleData[i],
                DataType.Float16 => (double)BitConverter.UInt16BitsToHalf((ushort)tensor.Int32Data[i]),
                DataType.Int8 or DataType.Uint8 or DataType.Int16 or DataType.Uint16 or DataType.Int32 or DataType.Bool => tensor.Int32Data[i],
                DataType.Int64 => tensor.Int64Data[i],
                DataType.Uint32 or DataType.Uint64 => tensor.Uint64Data[i],
                _ => throw new UnsupportedModelException($"tensor '{tensor.Name}' has element type {type}, which Lantern cannot read"),
            };
        return values;
    }

    public static float[] ReadFloats(TensorProto tensor) => ReadAsDoubles(tensor).Select(v => (float)v).ToArray();

    public static long[] ReadInt64s(TensorProto tensor)
    {
        if ((DataType)tensor.DataType != DataType.Int64) return ReadAsDoubles(tensor).Select(v => (long)v).ToArray();
        var count = (int)ElementCount(tensor);
        if (tensor.RawData.IsEmpty) return tensor.Int64Data.ToArray();
        var raw = tensor.RawData.Span;
        var values = new long[count];
        for (var i = 0; i < count; i++) values[i] = BinaryPrimitives.ReadInt64LittleEndian(raw[(i * 8)..]);
        return values;
    }

    /// <summary>The same tensor as float32 (float16 and double weights become float32).</summary>
    public static TensorProto ToFloat32(TensorProto tensor) =>
        Floats(tensor.Name, tensor.Dims.ToArray(), ReadFloats(tensor));
}
