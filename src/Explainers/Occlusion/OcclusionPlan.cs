using Lantern.Explainers.Imaging;

namespace Lantern.Explainers.Occlusion;

/// <summary>
/// Numbers every occlusion window of every scale: scale 0's windows first, then scale 1's, ...; inside a scale row-major
/// (y outer, x inner). Positions follow Captum's Occlusion: y = 0, StrideY, 2*StrideY, ... while y + Height &lt;= image
/// height (count = (H - h) / StrideY + 1), and likewise for x. Windows never extend past the image, so when the stride
/// does not divide (H - h) the last rows/columns may be covered by no window of a scale; such pixels get attribution 0
/// for that scale.
/// </summary>
public sealed class OcclusionPlan
{
    private readonly long[] _first;       // first window index of each scale, plus WindowCount at the end
    private readonly int[] _columns;      // windows per row, per scale

    private OcclusionPlan(int imageWidth, int imageHeight, WindowShape[] scales)
    {
        ImageWidth = imageWidth;
        ImageHeight = imageHeight;
        Scales = Array.AsReadOnly(scales);
        _first = new long[scales.Length + 1];
        _columns = new int[scales.Length];
        for (var s = 0; s < scales.Length; s++)
        {
            var w = scales[s];
            int rows = (imageHeight - w.Height) / w.StrideY + 1;
            _columns[s] = (imageWidth - w.Width) / w.StrideX + 1;
            _first[s + 1] = _first[s] + (long)rows * _columns[s];
        }
    }

    public int ImageWidth { get; }
    public int ImageHeight { get; }
    public IReadOnlyList<WindowShape> Scales { get; }
    public long WindowCount => _first[^1];

    /// <summary>Validates the windows against the image; throws <see cref="ArgumentException"/> with an actionable message.</summary>
    public static OcclusionPlan Create(int imageWidth, int imageHeight, IReadOnlyList<WindowShape> scales)
    {
        if (imageWidth < 1 || imageHeight < 1)
            throw new ArgumentException($"image must be at least 1x1, got {imageWidth}x{imageHeight}");
        if (scales is null || scales.Count == 0)
            throw new ArgumentException("at least one window size is required", nameof(scales));

        var copy = new WindowShape[scales.Count];
        for (var s = 0; s < copy.Length; s++)
        {
            var w = scales[s];
            string where = copy.Length > 1 ? $"scale {s}: " : "";
            if (w.Width < 1 || w.Height < 1)
                throw new ArgumentException($"{where}window must be at least 1x1, got {w.Width}x{w.Height}", nameof(scales));
            if (w.StrideX < 1 || w.StrideY < 1)
                throw new ArgumentException($"{where}stride must be at least 1, got {Math.Min(w.StrideX, w.StrideY)}", nameof(scales));
            if (w.Width > imageWidth || w.Height > imageHeight)
            {
                string limit = imageWidth == imageHeight ? $"{imageWidth}" : $"{imageWidth}x{imageHeight} (width x height)";
                throw new ArgumentException(
                    $"{where}window {w.Width}x{w.Height} is larger than the {imageWidth}x{imageHeight} image; use a window of at most {limit}",
                    nameof(scales));
            }
            copy[s] = w;
        }
        return new OcclusionPlan(imageWidth, imageHeight, copy);
    }

    public int ScaleOf(long windowIndex)
    {
        CheckIndex(windowIndex);
        int s = 0;
        while (windowIndex >= _first[s + 1]) s++;
        return s;
    }

    public PixelRect WindowAt(long windowIndex)
    {
        int s = ScaleOf(windowIndex);
        var w = Scales[s];
        long local = windowIndex - _first[s];
        int row = (int)(local / _columns[s]);
        int column = (int)(local % _columns[s]);
        return new PixelRect(column * w.StrideX, row * w.StrideY, w.Width, w.Height);
    }

    public (long First, long Count) ScaleRange(int scale)
    {
        if ((uint)scale >= (uint)Scales.Count)
            throw new ArgumentOutOfRangeException(nameof(scale), scale, $"the plan has {Scales.Count} scales");
        return (_first[scale], _first[scale + 1] - _first[scale]);
    }

    private void CheckIndex(long windowIndex)
    {
        if (windowIndex < 0 || windowIndex >= WindowCount)
            throw new ArgumentOutOfRangeException(nameof(windowIndex), windowIndex, $"the plan has {WindowCount} windows");
    }
}
