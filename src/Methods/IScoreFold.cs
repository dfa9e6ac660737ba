namespace Lantern.Methods;

/// <summary>
/// A method's maps as a fold over its work items in index order (RISE: a score-weighted sum of masks; input gradients:
/// the sum of each item's maps). The job entity feeds it the scored prefix as it grows and keeps only the items that
/// arrived ahead of it, so a job holds its maps' accumulators, not every perturbation's scores or every item's maps: a
/// job of 10⁶ items runs in the memory of one of 10⁴.
/// Folding in index order is what keeps the maps bit-identical however the items arrive, and across a recovery.
/// </summary>
public interface IScoreFold
{
    /// <summary>Perturbations folded so far: the next <see cref="Add"/> starts at this index.</summary>
    long Folded { get; }

    /// <summary>
    /// Folds the next work item: its perturbations' scores, count × targets row-major, and for methods that reduce each
    /// item to maps (IExplanationMethod.MapLength) its maps, targets × MapLength; empty for the others.
    /// </summary>
    void Add(ReadOnlySpan<float> scores, ReadOnlySpan<float> itemMaps);

    /// <summary>The maps, once every perturbation is folded: the same as the method's Assemble over all the scores.</summary>
    MethodOutput Finish(int[] targets);

    /// <summary>The fold's state, for a snapshot.</summary>
    byte[] Save();

    /// <summary>Restores what <see cref="Save"/> wrote for the same job.</summary>
    void Load(ReadOnlySpan<byte> saved);

    /// <summary>Bytes the fold holds in memory.</summary>
    long HeldBytes { get; }
}
