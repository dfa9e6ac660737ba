using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Lantern.Imaging;

/// <summary>
/// numpy's .npy format for float32 maps (numpy/lib/format.py): magic, version, little-endian header length,
/// a Python dict literal padded with spaces to a multiple of 64 bytes and ended by '\n', then the raw data.
/// </summary>
public static partial class Npy
{
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    // numpy's ARRAY_ALIGN and GROWTH_AXIS_MAX_DIGITS: the header keeps room for the growth axis to reach 21 digits,
    // and the whole preamble + header is a multiple of 64 bytes so the data is aligned.
    private const int ArrayAlign = 64;
    private const int GrowthAxisMaxDigits = 21;

    /// <summary>Version 1.0, dtype '&lt;f4', C order, shape (height, width), byte for byte as numpy.save writes it.</summary>
    public static byte[] Encode(ReadOnlySpan<float> data, int height, int width) => Encode(data, [height, width]);

    /// <summary>Version 1.0, dtype '&lt;f4', C order, the given shape (rank 1 or more), byte for byte as numpy.save writes it.</summary>
    public static byte[] Encode(ReadOnlySpan<float> data, IReadOnlyList<int> shape)
    {
        if (shape.Count == 0) throw new ArgumentException("an array needs at least one dimension", nameof(shape));
        foreach (var d in shape) ArgumentOutOfRangeException.ThrowIfNegative(d);
        var size = shape.Aggregate(1L, (a, d) => a * d);
        var dims = string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture)));
        if (data.Length != size)
            throw new ArgumentException($"a ({dims}) array needs {size} values, got {data.Length}", nameof(data));

        var h = shape[0].ToString(CultureInfo.InvariantCulture);
        var dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({dims}{(shape.Count == 1 ? "," : "")}), }}";
        dict += new string(' ', GrowthAxisMaxDigits - h.Length);
        const int preamble = 10; // magic (6) + version (2) + uint16 header length (2)
        var hlen = dict.Length + 1;
        var padlen = ArrayAlign - (preamble + hlen) % ArrayAlign;
        var header = dict + new string(' ', padlen) + "\n";
        if (header.Length > ushort.MaxValue) throw new InvalidOperationException("npy header too long for version 1.0");

        var bytes = new byte[preamble + header.Length + data.Length * sizeof(float)];
        Magic.CopyTo(bytes);
        bytes[6] = 1;
        bytes[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)header.Length);
        Encoding.ASCII.GetBytes(header, bytes.AsSpan(preamble));
        var body = bytes.AsSpan(preamble + header.Length);
        for (var i = 0; i < data.Length; i++)
            BinaryPrimitives.WriteSingleLittleEndian(body[(i * sizeof(float))..], data[i]);
        return bytes;
    }

    /// <summary>Reads a C-order '&lt;f4' array of any rank (versions 1.0 to 3.0).</summary>
    /// <exception cref="FormatException">Not an .npy file, or another dtype or order.</exception>
    public static (float[] Data, int[] Shape) Decode(byte[] npy)
    {
        ArgumentNullException.ThrowIfNull(npy);
        if (npy.Length < 10 || !npy.AsSpan(0, 6).SequenceEqual(Magic)) throw new FormatException("not an .npy file (bad magic)");
        int major = npy[6];
        int headerStart, headerLength;
        switch (major)
        {
            case 1:
                headerStart = 10;
                headerLength = BinaryPrimitives.ReadUInt16LittleEndian(npy.AsSpan(8));
                break;
            case 2 or 3:
                if (npy.Length < 12) throw new FormatException("truncated .npy header");
                headerStart = 12;
                headerLength = checked((int)BinaryPrimitives.ReadUInt32LittleEndian(npy.AsSpan(8)));
                break;
            default:
                throw new FormatException($"unsupported .npy version {major}.{npy[7]}");
        }
        if (headerStart + headerLength > npy.Length) throw new FormatException("truncated .npy header");
        var header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(npy, headerStart, headerLength);

        var descr = DescrPattern().Match(header);
        if (!descr.Success || descr.Groups[1].Value != "<f4")
            throw new FormatException($"only little-endian float32 ('<f4') is supported, header: {header.Trim()}");
        var fortran = FortranPattern().Match(header);
        if (!fortran.Success || fortran.Groups[1].Value != "False")
            throw new FormatException("only C-order arrays are supported");
        var shapeMatch = ShapePattern().Match(header);
        if (!shapeMatch.Success) throw new FormatException($"no shape in .npy header: {header.Trim()}");
        var shape = shapeMatch.Groups[1].Value
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture))
            .ToArray();

        long count = shape.Aggregate(1L, (a, d) => a * d);
        var dataStart = headerStart + headerLength;
        if (npy.Length - dataStart < count * sizeof(float))
            throw new FormatException($"truncated .npy data: shape ({string.Join(", ", shape)}) needs {count * sizeof(float)} bytes");
        var data = new float[count];
        for (var i = 0; i < data.Length; i++)
            data[i] = BinaryPrimitives.ReadSingleLittleEndian(npy.AsSpan(dataStart + i * sizeof(float)));
        return (data, shape);
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
