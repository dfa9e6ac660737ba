using System.Text.Json.Nodes;
using Lantern.Contracts.Messages;
using Lantern.Explainers;
using Lantern.Explainers.Imaging;
using Lantern.Explainers.Occlusion;

namespace Lantern.Methods;

/// <summary>The wire names of <see cref="OcclusionBorder"/> (lantern.v1 OcclusionOptions.border).</summary>
public static class OcclusionBorders
{
    public const string Captum = "captum";
    public const string Inside = "inside";

    /// <summary>
    /// A persisted spec's border. Empty means "inside": jobs journalled before the field existed were planned with full
    /// windows only and must replay the same windows; the gateway writes "captum" explicitly into every new job.
    /// </summary>
    public static OcclusionBorder ToExplainers(string border) => border switch
    {
        Captum => OcclusionBorder.Clipped,
        "" or Inside => OcclusionBorder.Inside,
        _ => throw new ArgumentException($"unknown occlusion border '{border}': use {Captum} or {Inside}"),
    };
}

/// <summary>Occlusion at one or several window sizes (Captum's Occlusion; multi-scale: max-normalised average).</summary>
public sealed class OcclusionMethod(OcclusionOptions options, int imageWidth, int imageHeight) : IExplanationMethod
{
    private readonly OcclusionPlan _plan =
        OcclusionPlan.Create(imageWidth, imageHeight, options.Windows.ToExplainers(), OcclusionBorders.ToExplainers(options.Border));

    public string Name => CoarseToFine ? "coarse-to-fine multi-scale occlusion" : options.Windows.Count > 1 ? "multi-scale occlusion" : "occlusion";
    public long PerturbationCount => _plan.WindowCount;

    /// <summary>The default share of a coarser map's maximum that marks a region for refinement.</summary>
    public const float DefaultRefineThreshold = 0.25f;

    /// <summary>
    /// The job evaluates a selection of <see cref="PerturbationCount"/> in <see cref="RefinementSteps"/> steps, each decided
    /// from the scores of the steps before it (see <see cref="CoarseToFineOcclusion"/>); perturbation indices stay the plan's.
    /// </summary>
    public bool CoarseToFine => options.CoarseToFine && _plan.Scales.Count > 1;

    public double RefineThreshold => options.HasRefineThreshold ? options.RefineThreshold : DefaultRefineThreshold;

    public int RefinementSteps => _plan.Scales.Count;

    /// <summary>A fresh coarse-to-fine run over this job's plan: the same algorithm in the job entity and in-process.</summary>
    public CoarseToFineOcclusion Refiner(ReadOnlySpan<float> baseline) => new(_plan, baseline, RefineThreshold);

    public IAdaptivePlan? AdaptivePlan => CoarseToFine ? new CoarseToFinePlan(this) : null;

    /// <summary>Coarse-to-fine as an adaptive plan: one step per scale, coarsest first.</summary>
    private sealed class CoarseToFinePlan(OcclusionMethod method) : IAdaptivePlan, IAdaptivePlanner
    {
        private CoarseToFineOcclusion? _run;

        public int Steps => method.RefinementSteps;
        public long PlannedPerturbations => method.PerturbationCount;

        public IAdaptivePlanner Start(ReadOnlySpan<float> baseline) =>
            new CoarseToFinePlan(method) { _run = method.Refiner(baseline) };

        public long[] Select(int step) => _run!.Needed(step);
        public void Record(int step, ReadOnlySpan<long> selected, ReadOnlySpan<float> scores) => _run!.Record(step, selected, scores);
        public float[] PlanScores() => _run!.Scores.ToArray();
    }

    public IPerturber CreatePerturber(RgbImage image, ImagePreprocessor preprocessor) =>
        new OcclusionPerturber(image, preprocessor, _plan, options.Fill.ToExplainers());

    public MethodOutput Assemble(ReadOnlySpan<float> baseline, ReadOnlySpan<float> scores, int[] targets)
    {
        var maps = OcclusionAssembler.Assemble(_plan, baseline, scores, targets.Length);
        var output = new List<OutputMap>();
        for (var t = 0; t < targets.Length; t++)
        {
            output.Add(new OutputMap(targets[t], 0, "", maps.Combined[t]));
            if (_plan.Scales.Count < 2) continue;
            for (var s = 0; s < _plan.Scales.Count; s++)
                output.Add(new OutputMap(targets[t], _plan.Scales[s].Height, "", maps.PerScale[s][t]));
        }
        return new MethodOutput(output);
    }

    public JsonObject Parameters() => new()
    {
        ["windows"] = new JsonArray([.. options.Windows.Select(w => (JsonNode)new JsonObject
        {
            ["height"] = w.Height, ["width"] = w.Width, ["stride_y"] = w.StrideY, ["stride_x"] = w.StrideX,
        })]),
        ["fill"] = FillJson(options.Fill),
        ["border"] = _plan.Border == OcclusionBorder.Clipped ? OcclusionBorders.Captum : OcclusionBorders.Inside,
        ["coarse_to_fine"] = CoarseToFine,
        ["refine_threshold"] = CoarseToFine ? RefineThreshold : null,
        ["attribution"] = "mean over covering windows of score(original) - score(occluded)"
                          + (options.Windows.Count > 1 ? "; per scale divided by its max |value|, then averaged" : "")
                          + (CoarseToFine ? "; coarse to fine: a window of a finer scale is evaluated only where the coarser " +
                                            "map reaches refine_threshold of its max |value|, else it takes the coarser map's value" : ""),
    };

    internal static JsonObject FillJson(Fill fill) => new()
    {
        ["kind"] = fill.Kind.ToString().ToLowerInvariant(),
        ["r"] = fill.R, ["g"] = fill.G, ["b"] = fill.B, ["blur_sigma"] = fill.BlurSigma,
    };
}
