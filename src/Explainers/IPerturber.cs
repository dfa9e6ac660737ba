namespace Lantern.Explainers;

/// <summary>
/// Rebuilds the model input of perturbation <c>index</c> from the index alone, so any worker can evaluate any range of a
/// job, in any order, with bit-identical inputs. Implementations are not thread-safe: one per thread.
/// </summary>
public interface IPerturber
{
    void Write(long index, Span<float> tensor);
}
