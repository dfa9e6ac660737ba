using System.Buffers.Binary;

namespace Lantern.Imaging;

/// <summary>
/// Finds cut-off uploads by walking the container structure. ImageSharp 2.1 decodes a truncated JPEG scan or PNG
/// IDAT stream without complaint (the missing rows come out grey or black), which would silently explain a
/// half-blank picture. A structure these walks do not understand counts as complete, so the decoder judges it.
/// </summary>
internal static class Truncation
{
    /// <summary>Why the bytes look cut off, or null when they look whole.</summary>
    public static string? Find(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF)
            return JpegIsComplete(bytes) ? null : "the JPEG data ends before its end-of-image marker";
        if (bytes.Length >= 8 && bytes[..8].SequenceEqual(PngSignature))
            return PngIsComplete(bytes) ? null : "the PNG data ends before its IEND chunk";
        if (bytes.Length >= 12 && bytes[..4].SequenceEqual("RIFF"u8) && bytes[8..12].SequenceEqual("WEBP"u8))
        {
            var declared = 8L + BinaryPrimitives.ReadUInt32LittleEndian(bytes[4..]);
            return bytes.Length >= declared ? null : $"the WebP file declares {declared} bytes but only {bytes.Length} arrived";
        }
        if (bytes.Length >= 6 && bytes[0] == (byte)'B' && bytes[1] == (byte)'M')
        {
            // bfSize is 0 in some writers' output; only a positive size can be checked.
            var declared = BinaryPrimitives.ReadUInt32LittleEndian(bytes[2..]);
            return declared == 0 || bytes.Length >= declared ? null : $"the BMP file declares {declared} bytes but only {bytes.Length} arrived";
        }
        return null;
    }

    private static ReadOnlySpan<byte> PngSignature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private static bool PngIsComplete(ReadOnlySpan<byte> bytes)
    {
        long i = 8;
        while (true)
        {
            if (i + 8 > bytes.Length) return false;
            var length = BinaryPrimitives.ReadUInt32BigEndian(bytes[(int)i..]);
            var type = bytes.Slice((int)i + 4, 4);
            i += 12L + length; // length, type, data, CRC
            if (i > bytes.Length) return false;
            if (type.SequenceEqual("IEND"u8)) return true;
        }
    }

    private static bool JpegIsComplete(ReadOnlySpan<byte> bytes)
    {
        var i = 2; // after SOI
        while (true)
        {
            if (i >= bytes.Length) return false;
            if (bytes[i] != 0xFF) return true; // not a marker where one belongs: leave it to the decoder
            while (i < bytes.Length && bytes[i] == 0xFF) i++; // fill bytes
            if (i >= bytes.Length) return false;
            var marker = bytes[i++];
            if (marker == 0xD9) return true; // EOI
            if (marker is 0x01 or (>= 0xD0 and <= 0xD7)) continue; // standalone markers
            if (i + 2 > bytes.Length) return false;
            var length = (bytes[i] << 8) | bytes[i + 1];
            if (length < 2) return true;
            i += length;
            if (i > bytes.Length) return false;
            if (marker != 0xDA) continue;

            // Entropy-coded data after SOS runs to the next marker that is neither a stuffed 0xFF00 nor a restart.
            while (true)
            {
                if (i + 1 >= bytes.Length) return false;
                if (bytes[i] == 0xFF)
                {
                    var next = bytes[i + 1];
                    if (next == 0x00 || next is >= 0xD0 and <= 0xD7) { i += 2; continue; }
                    if (next == 0xFF) { i++; continue; }
                    break;
                }
                i++;
            }
        }
    }
}
