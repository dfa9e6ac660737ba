namespace Lantern.Methods;

/// <summary>
/// A method's maps as a fold over the perturbations in index order (RISE: a score-weighted sum of masks). The job entity
/// feeds it the scored prefix as it grows and keeps only the scores of items that arrived ahead of it, so a job holds its
/// maps' accumulators, not its perturbations × targets scores: a job of 10⁶ items runs in the memory of one of 10⁴.
/// Folding in index order is what keeps the maps bit-identical however the items arrive, and across a recovery.
/// </summary>
public interface IScoreFold
{
    /// <summary>Perturbations folded so far: the next <see cref="Add"/> starts at this index.</summary>
    long Folded { get; }

    /// <summary>Folds the next perturbations' scores, count × targets row-major.</summary>
    void Add(ReadOnlySpan<float> scores);

    /// <summary>The maps, once every perturbation is folded: the same as the method's Assemble over all the scores.</summary>
    MethodOutput Finish(int[] targets);

    /// <summary>The fold's state, for a snapshot.</summary>
    byte[] Save();

    /// <summary>Restores what <see cref="Save"/> wrote for the same job.</summary>
    void Load(ReadOnlySpan<byte> saved);

    /// <summary>Bytes the fold holds in memory.</summary>
    long HeldBytes { get; }
}
