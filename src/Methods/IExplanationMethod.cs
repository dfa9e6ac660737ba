using System.Text.Json.Nodes;
using Lantern.Explainers;
using Lantern.Explainers.Imaging;

namespace Lantern.Methods;

/// <summary>
/// One explanation method as the cluster sees it: how many perturbations a job needs, how a worker rebuilds
/// perturbation i, and how the coordinator turns the score matrix into maps. Everything else is method-agnostic.
/// </summary>
public interface IExplanationMethod
{
    /// <summary>Name as the summary shows it, e.g. "occlusion", "lime".</summary>
    string Name { get; }

    /// <summary>Model evaluations the job needs besides the baseline (the unperturbed image).</summary>
    long PerturbationCount { get; }

    IPerturber CreatePerturber(RgbImage image, ImagePreprocessor preprocessor);

    /// <summary>
    /// Sequential sampling: given the scores of the first <paramref name="completed"/> perturbations (in index order,
    /// so the answer does not depend on which worker finished first), how many are enough; null to keep going.
    /// </summary>
    long? StopAfter(ReadOnlySpan<float> scores, long completed, int[] targets) => null;

    /// <param name="baseline">Each target's score for the unperturbed image.</param>
    /// <param name="scores">Perturbations used × targets, row-major (fewer than PerturbationCount after an early stop).</param>
    MethodOutput Assemble(ReadOnlySpan<float> baseline, ReadOnlySpan<float> scores, int[] targets);

    /// <summary>
    /// Floats a worker adds per target to a work item's result, after the item's scores: methods that reduce each work
    /// item to one map per target (the gradient methods) say how long; 0 for methods whose result is scores only.
    /// </summary>
    int MapLength => 0;

    /// <summary>
    /// True for methods whose work item i serves target slot i alone (deep dream: one target's whole ascent per item, one
    /// evaluation each): an item's result then holds one map, that target's, instead of one per target.
    /// </summary>
    bool ItemServesOneTarget => false;

    /// <summary>Adaptive methods choose their perturbations step by step (see <see cref="IAdaptivePlan"/>); null for the rest.</summary>
    IAdaptivePlan? AdaptivePlan => null;

    /// <summary>
    /// Methods whose maps are an in-order fold over their work items (see <see cref="IScoreFold"/>); null for methods
    /// that need every score at once (regressions, adaptive plans, sequential stopping). A method with a fold never stops
    /// early (<see cref="StopAfter"/> is not asked) and its items serve every target (not <see cref="ItemServesOneTarget"/>).
    /// </summary>
    IScoreFold? CreateFold(int targetCount) => null;

    /// <summary>The largest work item the method wants; null for the coordinator's default.</summary>
    int? MaxItemSize => null;

    /// <param name="itemMaps">Work items × targets × <see cref="MapLength"/> (× 1 with <see cref="ItemServesOneTarget"/>), in item order.</param>
    MethodOutput Assemble(ReadOnlySpan<float> baseline, ReadOnlySpan<float> scores, ReadOnlySpan<float> itemMaps, int[] targets) =>
        Assemble(baseline, scores, targets);

    /// <summary>The method's parameters, every default resolved, for summary.json.</summary>
    JsonObject Parameters();
}

/// <summary>The maps of a job and, per target, whatever else the method reports (for summary.json).</summary>
public sealed record MethodOutput(IReadOnlyList<OutputMap> Maps, JsonArray? PerTarget = null);

/// <param name="Window">0 for the combined map; a scale's window height for per-scale occlusion maps.</param>
/// <param name="Kind">"" for an attribution map, "mask" for a binary view such as LIME's positive-only mask.</param>
/// <param name="Height">0: the source image's size (every attribution map); else the map's own (deep dream's model-input sized image).</param>
public sealed record OutputMap(int Target, int Window, string Kind, float[] Data, int Height = 0, int Width = 0);
