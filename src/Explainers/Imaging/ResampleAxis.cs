namespace Lantern.Explainers.Imaging;

/// <summary>
/// One axis of a separable resize (optionally followed by a crop): for each output index, the first source index and the
/// weights of its footprint. The coefficients follow PIL's BILINEAR resize (Imaging/Resample.c, precompute_coeffs): a
/// triangle filter whose support is widened by the downscale factor (antialiasing), plain bilinear when upscaling, weights
/// normalised to sum 1 and clipped at the image edge.
/// </summary>
internal sealed class ResampleAxis
{
    private readonly int[] _start;
    private readonly int[] _count;
    private readonly int[] _weightOffset;
    private readonly float[] _weights;

    // Inverse tables, both of length SourceSize + 1. Footprints are monotone (start and end never decrease with the
    // output index), so the outputs touching the source range [a, b) are exactly [_firstEndingAfter[a], _countStartingBefore[b]).
    private readonly int[] _firstEndingAfter;
    private readonly int[] _countStartingBefore;

    /// <param name="sourceSize">Source pixels along this axis.</param>
    /// <param name="resizedSize">Size the source is resized to before cropping.</param>
    /// <param name="cropOffset">First resized index kept.</param>
    /// <param name="outputSize">Resized indices kept, starting at <paramref name="cropOffset"/>.</param>
    public ResampleAxis(int sourceSize, int resizedSize, int cropOffset, int outputSize)
    {
        SourceSize = sourceSize;
        OutputSize = outputSize;
        _start = new int[outputSize];
        _count = new int[outputSize];
        _weightOffset = new int[outputSize];

        double scale = (double)sourceSize / resizedSize;
        double filterScale = Math.Max(scale, 1.0);
        double support = filterScale; // the triangle's support is 1 source pixel, widened when downscaling
        double inverseFilterScale = 1.0 / filterScale;

        var weights = new List<float>(outputSize * ((int)Math.Ceiling(support) * 2 + 1));
        var raw = new double[(int)Math.Ceiling(support) * 2 + 2];
        for (var o = 0; o < outputSize; o++)
        {
            double center = (o + cropOffset + 0.5) * scale;
            int min = Math.Max(0, (int)(center - support + 0.5));
            int max = Math.Min(sourceSize, (int)(center + support + 0.5));
            double total = 0;
            for (var s = min; s < max; s++)
            {
                double w = Triangle((s - center + 0.5) * inverseFilterScale);
                raw[s - min] = w;
                total += w;
            }

            // Trim zero weights at both ends so that the footprint is exactly the set of pixels the output depends on.
            int first = min, last = max - 1;
            while (first <= last && raw[first - min] == 0) first++;
            while (last >= first && raw[last - min] == 0) last--;
            if (first > last)
                throw new InvalidOperationException($"output index {o} has an empty footprint");

            _start[o] = first;
            _count[o] = last - first + 1;
            _weightOffset[o] = weights.Count;
            for (var s = first; s <= last; s++)
                weights.Add((float)(raw[s - min] / total));
        }
        _weights = weights.ToArray();

        _firstEndingAfter = new int[sourceSize + 1];
        _countStartingBefore = new int[sourceSize + 1];
        for (var o = 1; o < outputSize; o++)
        {
            if (_start[o] < _start[o - 1] || End(o) < End(o - 1))
                throw new InvalidOperationException("resampling footprints are not monotone");
        }
        int oEnd = 0, oStart = 0;
        for (var a = 0; a <= sourceSize; a++)
        {
            while (oEnd < outputSize && End(oEnd) <= a) oEnd++;
            _firstEndingAfter[a] = oEnd;
            while (oStart < outputSize && _start[oStart] < a) oStart++;
            _countStartingBefore[a] = oStart;
        }
    }

    public int SourceSize { get; }
    public int OutputSize { get; }

    public int Start(int output) => _start[output];
    public int Count(int output) => _count[output];
    public ReadOnlySpan<float> Weights(int output) => _weights.AsSpan(_weightOffset[output], _count[output]);

    /// <summary>The output indices [First, End) whose footprint intersects the source range [from, to) (clamped to the axis).</summary>
    public (int First, int End) OutputsTouching(int from, int to)
    {
        from = Math.Clamp(from, 0, SourceSize);
        to = Math.Clamp(to, 0, SourceSize);
        if (from >= to) return (0, 0);
        int first = _firstEndingAfter[from];
        int end = _countStartingBefore[to];
        return first < end ? (first, end) : (0, 0);
    }

    private int End(int output) => _start[output] + _count[output];

    private static double Triangle(double x)
    {
        if (x < 0) x = -x;
        return x < 1 ? 1 - x : 0;
    }
}
