using Lantern.Explainers.Imaging;

namespace Lantern.Explainers.Occlusion;

/// <summary>
/// Opt-in coarse-to-fine multi-scale occlusion: the coarsest scale (largest window) is evaluated in full; each finer scale
/// evaluates only the windows that overlap a pixel where the scale before it was significant (for some target,
/// |map| ≥ <c>threshold</c> × that map's max |value|). A window left out takes the coarser map's value: its
/// score difference is imputed as the mean of the coarser map over the window, so its pixels keep the coarse value
/// where no evaluated window covers them. The maps then come from <see cref="OcclusionAssembler"/> as for the exact job.
/// <para>Threshold 0 refines everything and gives the exact maps bit for bit. The refinement decision depends only on
/// the completed scores of the coarser scales, never on which worker finished first, so the result is deterministic.</para>
/// <para>Use: for each step, <see cref="Needed"/> gives the evaluation indices (of the plan, as the exact job numbers
/// them) to score, <see cref="Record"/> takes their scores; after the last step, <see cref="Assemble"/>.</para>
/// </summary>
public sealed class CoarseToFineOcclusion
{
    private readonly OcclusionPlan _plan;
    private readonly int _targets;
    private readonly double _threshold;
    private readonly float[] _baseline;
    private readonly float[] _scores;   // plan.WindowCount × targets: evaluated, or imputed for windows left out
    private readonly bool[] _known;
    private readonly int[] _order;      // scales, coarsest (largest window area) first; ties keep the plan's order
    private int _recorded;

    public CoarseToFineOcclusion(OcclusionPlan plan, ReadOnlySpan<float> baseline, double threshold)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (baseline.Length < 1) throw new ArgumentException("at least one target is required", nameof(baseline));
        if (!(threshold >= 0 && threshold <= 1))
            throw new ArgumentException($"the coarse-to-fine threshold is a fraction of the map's maximum, 0..1; got {threshold}", nameof(threshold));
        _plan = plan;
        _targets = baseline.Length;
        _threshold = threshold;
        _baseline = baseline.ToArray();
        _scores = new float[plan.WindowCount * _targets];
        _known = new bool[plan.WindowCount];
        _order = [.. Enumerable.Range(0, plan.Scales.Count)
            .OrderByDescending(s => (long)plan.Scales[s].Height * plan.Scales[s].Width).ThenBy(s => s)];
    }

    public int Steps => _order.Length;

    /// <summary>Evaluations scored so far (the imputed ones are not).</summary>
    public long Evaluated { get; private set; }

    /// <summary>
    /// The evaluation indices step <paramref name="step"/> needs scored, ascending. Step 0 is the coarsest scale, whole;
    /// a later step can be asked only once the step before it is recorded, and imputes the windows it leaves out.
    /// </summary>
    public long[] Needed(int step)
    {
        if (step != _recorded) throw new InvalidOperationException($"step {step} asked for, but {_recorded} steps are recorded");
        var scale = _order[step];
        bool[]? significant = step == 0 ? null : Significant(_order[step - 1]);
        var integral = significant is null ? null : Integral(significant);
        var needed = new SortedSet<long>();
        for (long local = 0, windows = _plan.WindowsOfScale(scale); local < windows; local++)
        {
            var evaluation = _plan.EvaluationOf(scale, local);
            if (_known[evaluation]) continue;
            var rect = _plan.LocalRect(scale, local);
            if (integral is null || Count(integral, rect) > 0)
            {
                needed.Add(evaluation);
                continue;
            }
            Impute(evaluation, _order[step - 1], rect);
        }
        return [.. needed];
    }

    /// <summary>The targets' scores of the evaluations <see cref="Needed"/> gave for this step, indices × targets row-major.</summary>
    public void Record(int step, ReadOnlySpan<long> indices, ReadOnlySpan<float> scores)
    {
        if (step != _recorded) throw new InvalidOperationException($"step {step} recorded, but {_recorded} steps are recorded");
        if (scores.Length != indices.Length * _targets)
            throw new ArgumentException($"scores must hold {indices.Length} × {_targets} values, got {scores.Length}", nameof(scores));
        for (var k = 0; k < indices.Length; k++)
        {
            scores.Slice(k * _targets, _targets).CopyTo(_scores.AsSpan((int)(indices[k] * _targets), _targets));
            if (!_known[indices[k]]) Evaluated++;
            _known[indices[k]] = true;
        }
        _recorded++;
    }

    /// <summary>
    /// Every window's targets' scores, plan.WindowCount × targets row-major: evaluated, or imputed for the windows left out.
    /// Complete once every step is recorded; <see cref="OcclusionAssembler.Assemble"/> of them is <see cref="Assemble"/>.
    /// </summary>
    public ReadOnlySpan<float> Scores => _scores;

    /// <summary>The maps, exactly as <see cref="OcclusionAssembler.Assemble"/> makes them from the evaluated and imputed scores.</summary>
    public OcclusionMaps Assemble()
    {
        if (_recorded != Steps) throw new InvalidOperationException($"{_recorded} of {Steps} steps are recorded");
        return OcclusionAssembler.Assemble(_plan, _baseline, _scores, _targets);
    }

    /// <summary>A window left out: score := baseline − (mean of the coarser map over the window), per target.</summary>
    private void Impute(long evaluation, int coarser, PixelRect rect)
    {
        for (var t = 0; t < _targets; t++)
        {
            var map = ScaleMap(coarser, t);
            double sum = 0;
            for (var y = rect.Y; y < rect.Bottom; y++)
            for (var x = rect.X; x < rect.Right; x++)
                sum += map[y * _plan.ImageWidth + x];
            _scores[evaluation * _targets + t] = (float)(_baseline[t] - sum / ((double)rect.Width * rect.Height));
        }
        _known[evaluation] = true;
    }

    private readonly Dictionary<(int Scale, int Target), float[]> _maps = [];

    /// <summary>A scale's map from its (evaluated or imputed) scores: the assembler's per-scale map, for one scale only.</summary>
    private float[] ScaleMap(int scale, int target)
    {
        if (_maps.TryGetValue((scale, target), out var cached)) return cached;
        var single = OcclusionPlan.Create(_plan.ImageWidth, _plan.ImageHeight, [_plan.Scales[scale]], _plan.Border);
        var windows = _plan.WindowsOfScale(scale);
        var scores = new float[windows * _targets];
        for (long local = 0; local < windows; local++)
            _scores.AsSpan((int)(_plan.EvaluationOf(scale, local) * _targets), _targets).CopyTo(scores.AsSpan((int)(local * _targets)));
        var maps = OcclusionAssembler.Assemble(single, _baseline, scores, _targets);
        for (var t = 0; t < _targets; t++) _maps[(scale, t)] = maps.PerScale[0][t];
        return _maps[(scale, target)];
    }

    /// <summary>Pixels where some target's map of the scale reaches the threshold fraction of its maximum magnitude.</summary>
    private bool[] Significant(int scale)
    {
        var significant = new bool[_plan.ImageWidth * _plan.ImageHeight];
        for (var t = 0; t < _targets; t++)
        {
            var map = ScaleMap(scale, t);
            double max = 0;
            foreach (var v in map) max = Math.Max(max, Math.Abs((double)v));
            var bar = _threshold * max;
            for (var p = 0; p < map.Length; p++)
                if (Math.Abs((double)map[p]) >= bar) significant[p] = true;
        }
        return significant;
    }

    /// <summary>Summed-area table of the mask, (W+1)×(H+1), for counting significant pixels in a window in O(1).</summary>
    private int[] Integral(bool[] mask)
    {
        int w = _plan.ImageWidth, h = _plan.ImageHeight;
        var sat = new int[(w + 1) * (h + 1)];
        for (var y = 0; y < h; y++)
        for (var x = 0; x < w; x++)
            sat[(y + 1) * (w + 1) + x + 1] = (mask[y * w + x] ? 1 : 0) + sat[y * (w + 1) + x + 1] + sat[(y + 1) * (w + 1) + x] - sat[y * (w + 1) + x];
        return sat;
    }

    private int Count(int[] sat, PixelRect r)
    {
        var stride = _plan.ImageWidth + 1;
        return sat[r.Bottom * stride + r.Right] - sat[r.Y * stride + r.Right] - sat[r.Bottom * stride + r.X] + sat[r.Y * stride + r.X];
    }
}
