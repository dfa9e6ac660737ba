using Lantern.Explainers.Imaging;

namespace Lantern.Explainers.Occlusion;

/// <summary>
/// Numbers every occlusion window of every scale: scale 0's windows first, then scale 1's, ...; inside a scale row-major
/// (y outer, x inner). Positions follow Captum's Occlusion by default (<see cref="OcclusionBorder.Clipped"/>): y = 0,
/// StrideY, 2*StrideY, ... while y &lt; H - h + StrideY (count = ceil((H - h) / StrideY) + 1), and likewise for x; when the
/// stride does not divide (H - h) the last row/column of windows is clipped at the image's edge (Captum pads the sliding
/// window with a negative amount there). With <see cref="OcclusionBorder.Inside"/> only full windows are placed
/// (count = (H - h) / StrideY + 1) and the last rows/columns may be covered by no window of a scale; such pixels get
/// attribution 0 for that scale.
/// <para>Identical windows are evaluated once per job: when two scales share a window size (say 16 with stride 8 and 16
/// with stride 16), a window of the later scale that sits on an earlier scale's grid is the same occluded image, so it
/// gets no index of its own and the assembler reads the earlier one's score (<see cref="EvaluationOf"/>). The indices
/// (<see cref="WindowCount"/> of them, what the job evaluates) number only the new windows of each scale, in the order
/// above; a plan without shared sizes is numbered exactly as before. Every target is read from the same evaluation.</para>
/// </summary>
public sealed class OcclusionPlan
{
    private readonly long[] _first;       // first evaluation index of each scale's new windows, plus WindowCount at the end
    private readonly int[] _columns;      // windows per row, per scale
    private readonly int[] _rows;         // window rows, per scale

    // Only for scales that share their window size with an earlier scale (null otherwise, numbering is contiguous):
    private readonly long[]?[] _evaluationOf; // local window → evaluation index (its own, or the earlier identical window's)
    private readonly int[]?[] _newLocals;     // k-th new window of the scale → its local index

    private OcclusionPlan(int imageWidth, int imageHeight, WindowShape[] scales, OcclusionBorder border)
    {
        Border = border;
        ImageWidth = imageWidth;
        ImageHeight = imageHeight;
        Scales = Array.AsReadOnly(scales);
        _first = new long[scales.Length + 1];
        _columns = new int[scales.Length];
        _rows = new int[scales.Length];
        _evaluationOf = new long[]?[scales.Length];
        _newLocals = new int[]?[scales.Length];
        for (var s = 0; s < scales.Length; s++)
        {
            var w = scales[s];
            _rows[s] = Positions(imageHeight - w.Height, w.StrideY, border);
            _columns[s] = Positions(imageWidth - w.Width, w.StrideX, border);
            var windows = (long)_rows[s] * _columns[s];
            var earlier = Enumerable.Range(0, s).Where(e => scales[e].Height == w.Height && scales[e].Width == w.Width).ToArray();
            if (earlier.Length == 0)
            {
                _first[s + 1] = _first[s] + windows;
                continue;
            }
            var evaluationOf = new long[windows];
            var newLocals = new List<int>();
            for (var local = 0; local < windows; local++)
            {
                var rect = LocalRect(s, local);
                var same = -1L;
                foreach (var e in earlier)
                {
                    if (LocalIndexAt(e, rect) is not { } at) continue;
                    same = EvaluationOf(e, at);
                    break;
                }
                if (same < 0)
                {
                    same = _first[s] + newLocals.Count;
                    newLocals.Add(local);
                }
                evaluationOf[local] = same;
            }
            _evaluationOf[s] = evaluationOf;
            _newLocals[s] = [.. newLocals];
            _first[s + 1] = _first[s] + newLocals.Count;
        }
    }

    /// <summary>Window start positions along one axis with <paramref name="room"/> = image − window ≥ 0 pixels to move in.</summary>
    private static int Positions(int room, int stride, OcclusionBorder border) =>
        border == OcclusionBorder.Inside ? room / stride + 1 : (room + stride - 1) / stride + 1;

    public OcclusionBorder Border { get; }
    public int ImageWidth { get; }
    public int ImageHeight { get; }
    public IReadOnlyList<WindowShape> Scales { get; }
    public long WindowCount => _first[^1];

    /// <summary>Validates the windows against the image; throws <see cref="ArgumentException"/> with an actionable message.</summary>
    public static OcclusionPlan Create(int imageWidth, int imageHeight, IReadOnlyList<WindowShape> scales,
        OcclusionBorder border = OcclusionBorder.Clipped)
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
        if (!Enum.IsDefined(border))
            throw new ArgumentException($"unknown border placement {border}", nameof(border));
        return new OcclusionPlan(imageWidth, imageHeight, copy, border);
    }

    public int ScaleOf(long windowIndex)
    {
        CheckIndex(windowIndex);
        int s = 0;
        while (windowIndex >= _first[s + 1]) s++;
        return s;
    }

    /// <summary>The window that evaluation <paramref name="windowIndex"/> occludes.</summary>
    public PixelRect WindowAt(long windowIndex)
    {
        int s = ScaleOf(windowIndex);
        var k = (int)(windowIndex - _first[s]);
        return LocalRect(s, _newLocals[s] is { } locals ? locals[k] : k);
    }

    /// <summary>Windows of a scale, rows × columns, shared ones included: what its map averages over.</summary>
    public long WindowsOfScale(int scale) => (long)_rows[scale] * _columns[scale];

    /// <summary>Window <paramref name="local"/> of a scale, row-major, whether or not it has an evaluation of its own.</summary>
    public PixelRect LocalRect(int scale, long local)
    {
        var w = Scales[scale];
        int row = (int)(local / _columns[scale]);
        int column = (int)(local % _columns[scale]);
        int x = column * w.StrideX, y = row * w.StrideY;
        // Clipped at the image's edge (only the last row/column, and only with OcclusionBorder.Clipped).
        return new PixelRect(x, y, Math.Min(w.Width, ImageWidth - x), Math.Min(w.Height, ImageHeight - y));
    }

    /// <summary>The evaluation whose scores window <paramref name="local"/> of a scale takes (an earlier scale's for a shared window).</summary>
    public long EvaluationOf(int scale, long local) =>
        _evaluationOf[scale] is { } map ? map[local] : _first[scale] + local;

    /// <summary>The local index of <paramref name="rect"/> in a scale's grid, or null when the scale has no such window.</summary>
    private int? LocalIndexAt(int scale, PixelRect rect)
    {
        var w = Scales[scale];
        if (rect.X % w.StrideX != 0 || rect.Y % w.StrideY != 0) return null;
        int column = rect.X / w.StrideX, row = rect.Y / w.StrideY;
        return column < _columns[scale] && row < _rows[scale] ? row * _columns[scale] + column : null;
    }

    /// <summary>The evaluation indices of a scale's new windows (all of its windows when it shares no size with an earlier scale).</summary>
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
