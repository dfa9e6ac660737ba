using System.Buffers.Binary;
using Lantern.Explainers.Imaging;

namespace Lantern.Explainers.Segmentation;

/// <summary>
/// A partition of an image into features (superpixels): Labels[y*Width+x] in 0..FeatureCount-1, every label used,
/// numbered in raster order of first appearance (so the numbering is canonical and deterministic: two segmentations with
/// the same regions have the same labels, whatever produced them).
/// </summary>
public sealed class Segmentation
{
    private const int HeaderBytes = 8;

    /// <summary>Takes any integer labels (equal label = same feature) and renumbers them canonically into a new array.</summary>
    public Segmentation(int width, int height, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (width < 1 || height < 1)
            throw new ArgumentException($"segmentation must be at least 1x1, got {width}x{height}");
        if (labels.Length != (long)width * height)
            throw new ArgumentException(
                $"a {width}x{height} segmentation needs {(long)width * height} labels, got {labels.Length}", nameof(labels));
        Width = width;
        Height = height;
        (Labels, FeatureCount) = Canonical(labels);
    }

    public int Width { get; }
    public int Height { get; }

    /// <summary>Row-major, one per pixel, in 0..<see cref="FeatureCount"/>-1.</summary>
    public int[] Labels { get; }

    public int FeatureCount { get; }

    /// <summary>Number of pixels in each feature.</summary>
    public int[] PixelCounts()
    {
        var counts = new int[FeatureCount];
        foreach (var label in Labels) counts[label]++;
        return counts;
    }

    /// <summary>FeatureCount*3 values: each feature's mean R, G, B (0..255), accumulated in double.</summary>
    public float[] MeanColours(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Width != Width || image.Height != Height)
            throw new ArgumentException(
                $"the segmentation is for a {Width}x{Height} image but the image is {image.Width}x{image.Height}");
        var sums = new double[FeatureCount * 3];
        var counts = new int[FeatureCount];
        var p = image.Pixels;
        for (var i = 0; i < Labels.Length; i++)
        {
            var at = Labels[i] * 3;
            sums[at] += p[i * 3];
            sums[at + 1] += p[i * 3 + 1];
            sums[at + 2] += p[i * 3 + 2];
            counts[Labels[i]]++;
        }
        var means = new float[sums.Length];
        for (var i = 0; i < means.Length; i++)
            means[i] = (float)(sums[i] / counts[i / 3]);
        return means;
    }

    /// <summary>Little-endian int32s: width, height, then the labels row-major; 8 + 4*Width*Height bytes.</summary>
    public byte[] ToBytes()
    {
        var bytes = new byte[HeaderBytes + 4L * Labels.Length];
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(0), Width);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), Height);
        for (var i = 0; i < Labels.Length; i++)
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(HeaderBytes + 4 * i), Labels[i]);
        return bytes;
    }

    /// <summary>Reads what <see cref="ToBytes"/> wrote; the labels are renumbered canonically again, so a hand-made or
    /// foreign artifact still yields a valid segmentation.</summary>
    public static Segmentation FromBytes(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if (bytes.Length < HeaderBytes)
            throw new ArgumentException($"a stored segmentation starts with an 8-byte header, got {bytes.Length} bytes", nameof(bytes));
        int width = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(0));
        int height = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(4));
        if (width < 1 || height < 1)
            throw new ArgumentException($"stored segmentation has size {width}x{height}", nameof(bytes));
        long expected = HeaderBytes + 4L * width * height;
        if (bytes.Length != expected)
            throw new ArgumentException(
                $"a stored {width}x{height} segmentation is {expected} bytes, got {bytes.Length}", nameof(bytes));
        var labels = new int[width * height];
        for (var i = 0; i < labels.Length; i++)
            labels[i] = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(HeaderBytes + 4 * i));
        return new Segmentation(width, height, labels);
    }

    private static (int[] Labels, int Count) Canonical(int[] labels)
    {
        var result = new int[labels.Length];
        int next = 0;
        // Segmenters hand over labels in 0..pixels-1, where an array map is cheapest; anything else goes through a dictionary.
        bool dense = true;
        foreach (var l in labels)
        {
            if ((uint)l >= (uint)labels.Length)
            {
                dense = false;
                break;
            }
        }
        if (dense)
        {
            var map = new int[labels.Length];
            Array.Fill(map, -1);
            for (var i = 0; i < labels.Length; i++)
            {
                ref var m = ref map[labels[i]];
                if (m < 0) m = next++;
                result[i] = m;
            }
        }
        else
        {
            var map = new Dictionary<int, int>();
            for (var i = 0; i < labels.Length; i++)
            {
                if (!map.TryGetValue(labels[i], out var m))
                    map[labels[i]] = m = next++;
                result[i] = m;
            }
        }
        return (result, next);
    }
}
