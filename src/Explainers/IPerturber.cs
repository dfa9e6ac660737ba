namespace Lantern.Explainers;

/// <summary>
/// Rebuilds the model input of perturbation <c>index</c> from the index alone, so any worker can evaluate any range of a
/// job, in any order, with bit-identical inputs. Implementations are not thread-safe: one per thread.
/// </summary>
public interface IPerturber
{
    void Write(long index, Span<float> tensor);

    /// <summary>
    /// As <see cref="Write"/>, into a tensor that holds what <see cref="Write"/> wrote for <paramref name="previous"/>: a
    /// perturber whose perturbations change a small part of the input redoes only the parts either one changed. The
    /// tensor ends bit-identical to <see cref="Write"/>'s.
    /// </summary>
    void Rewrite(long previous, long index, Span<float> tensor) => Write(index, tensor);
}
