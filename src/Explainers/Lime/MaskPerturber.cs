using System.Numerics;
using Lantern.Explainers.Imaging;

namespace Lantern.Explainers.Lime;

/// <summary>
/// The model input of evaluation <c>index</c> of a superpixel method (LIME, KernelSHAP): the mask source says which
/// features stay, and every feature switched off adds its precomputed contribution to the preprocessed image.
/// <para>Why: preprocessing (resampling, then scale, mean and std) is affine in the pixels and the features are disjoint,
/// so preprocess(image with features S hidden) = preprocess(image) + Σ_{f∈S} [preprocess(image with f hidden) −
/// preprocess(image)]. The bracket is computed once per feature in the constructor (a region update of the tensor) and
/// kept sparse: only the model-input elements whose resampling footprint meets the feature. A sample then costs one copy
/// of the model input plus the sparse adds, independent of the source image's size, where a full preprocess of a large
/// image took tens of milliseconds per sample.</para>
/// <para>Deterministic (features are added in index order), but no longer bit-identical to painting the image and
/// preprocessing it in full: the two differ by float rounding only (a few ulps where features' footprints overlap).
/// Sample 0 of LIME, with every feature on, is the preprocessed image exactly.</para>
/// Not thread-safe: one per thread. Allocates only in its constructor.
/// </summary>
public sealed class MaskPerturber : IPerturber
{
    private readonly float[] _baseTensor;
    private readonly IMaskSource _masks;
    private readonly bool[] _mask;

    // Feature f's contribution: runs _runs[_featureRuns[f].._featureRuns[f + 1]) of consecutive tensor elements, which
    // get _deltas[_offsets[f]..) added, run after run. A feature is a few large regions, so its elements come in runs
    // (parts of rows, per channel), and a run is added as spans, not element by element through an index.
    private readonly int[] _offsets;
    private readonly int[] _featureRuns;
    private readonly (int Start, int Length)[] _runs;
    private readonly float[] _deltas;

    public MaskPerturber(RgbImage image, Segmentation.Segmentation seg, float[] hideColours, ImagePreprocessor pre, IMaskSource masks)
    {
        FeaturePainter.Check(image, seg, hideColours);
        ArgumentNullException.ThrowIfNull(pre);
        ArgumentNullException.ThrowIfNull(masks);
        if (masks.FeatureCount != seg.FeatureCount)
            throw new ArgumentException(
                $"the masks are over {masks.FeatureCount} features but the segmentation has {seg.FeatureCount}", nameof(masks));
        _masks = masks;
        _mask = new bool[seg.FeatureCount];
        _baseTensor = new float[pre.TensorLength];
        pre.Write(image.Pixels, _baseTensor); // also fails now, not per sample, if the preprocessor expects another size
        (_offsets, _featureRuns, _runs, _deltas) = Contributions(image, seg, hideColours, pre, _baseTensor);
    }

    public int TensorLength => _baseTensor.Length;

    /// <summary>
    /// tensor := preprocess(image) + the contributions of the features that are off in mask <paramref name="index"/>,
    /// in feature order; equal within float rounding to preprocessing the image with those features painted.
    /// </summary>
    public void Write(long index, Span<float> tensor)
    {
        _masks.Mask(index, _mask);
        _baseTensor.CopyTo(tensor);
        for (var f = 0; f < _mask.Length; f++)
        {
            if (_mask[f]) continue;
            var k = _offsets[f];
            for (var r = _featureRuns[f]; r < _featureRuns[f + 1]; r++)
            {
                var (start, length) = _runs[r];
                AddInPlace(tensor.Slice(start, length), _deltas.AsSpan(k, length));
                k += length;
            }
        }
    }

    /// <summary>target[i] += deltas[i]: one float addition per element, as a scalar loop would make, several at a time.</summary>
    private static void AddInPlace(Span<float> target, ReadOnlySpan<float> deltas)
    {
        var i = 0;
        for (; i <= target.Length - Vector<float>.Count; i += Vector<float>.Count)
            (new Vector<float>(target[i..]) + new Vector<float>(deltas[i..])).CopyTo(target[i..]);
        for (; i < target.Length; i++) target[i] += deltas[i];
    }

    /// <summary>
    /// Per feature, the non-zero elements of preprocess(image with only that feature painted) − preprocess(image). Each
    /// feature's painted tensor is a region update of the base tensor over the feature's bounding box, bit-identical to a
    /// full preprocess of the painted image.
    /// </summary>
    private static (int[] Offsets, int[] FeatureRuns, (int Start, int Length)[] Runs, float[] Deltas) Contributions(RgbImage image,
        Segmentation.Segmentation seg, float[] hideColours, ImagePreprocessor pre, float[] baseTensor)
    {
        int width = image.Width, features = seg.FeatureCount;
        var labels = seg.Labels;
        var boxes = BoundingBoxes(seg);
        var scratch = (float[])image.Pixels.Clone();
        var painted = (float[])baseTensor.Clone();
        var offsets = new int[features + 1];
        var featureRuns = new int[features + 1];
        var runs = new List<(int Start, int Length)>();
        var deltas = new List<float>(baseTensor.Length * 2);
        for (var f = 0; f < features; f++)
        {
            offsets[f] = deltas.Count;
            featureRuns[f] = runs.Count;
            var (x0, y0, x1, y1) = boxes[f];
            if (x1 <= x0) continue; // a feature with no pixels changes nothing
            var box = new PixelRect(x0, y0, x1 - x0, y1 - y0);
            for (var y = y0; y < y1; y++)
            for (var x = x0; x < x1; x++)
            {
                var p = y * width + x;
                if (labels[p] != f) continue;
                scratch[3 * p] = hideColours[3 * f];
                scratch[3 * p + 1] = hideColours[3 * f + 1];
                scratch[3 * p + 2] = hideColours[3 * f + 2];
            }
            pre.WriteRegion(scratch, painted, box);
            for (var i = 0; i < painted.Length; i++)
            {
                if (painted[i] == baseTensor[i]) continue;
                if (runs.Count > featureRuns[f] && runs[^1].Start + runs[^1].Length == i) runs[^1] = (runs[^1].Start, runs[^1].Length + 1);
                else runs.Add((i, 1));
                deltas.Add(painted[i] - baseTensor[i]);
                painted[i] = baseTensor[i];
            }
            for (var y = y0; y < y1; y++)
                image.Pixels.AsSpan((y * width + x0) * 3, (x1 - x0) * 3).CopyTo(scratch.AsSpan((y * width + x0) * 3));
        }
        offsets[features] = deltas.Count;
        featureRuns[features] = runs.Count;
        return (offsets, featureRuns, [.. runs], [.. deltas]);
    }

    /// <summary>Each feature's bounding box as (x0, y0, x1, y1), exclusive ends; (0, 0, 0, 0) for a feature with no pixels.</summary>
    private static (int X0, int Y0, int X1, int Y1)[] BoundingBoxes(Segmentation.Segmentation seg)
    {
        var boxes = new (int X0, int Y0, int X1, int Y1)[seg.FeatureCount];
        Array.Fill(boxes, (int.MaxValue, int.MaxValue, 0, 0));
        for (var y = 0; y < seg.Height; y++)
        for (var x = 0; x < seg.Width; x++)
        {
            var f = seg.Labels[y * seg.Width + x];
            var (x0, y0, x1, y1) = boxes[f];
            boxes[f] = (Math.Min(x0, x), Math.Min(y0, y), Math.Max(x1, x + 1), Math.Max(y1, y + 1));
        }
        for (var f = 0; f < boxes.Length; f++)
            if (boxes[f].X1 == 0) boxes[f] = (0, 0, 0, 0);
        return boxes;
    }
}
