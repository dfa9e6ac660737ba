using Lantern.Contracts.Messages;

namespace Lantern.Contracts.Messages;

public static class JobSpecExtensions
{
    /// <summary>True when the job explains probabilities of a model that outputs logits: scores pass through softmax.</summary>
    public static bool AppliesSoftmax(this JobSpec spec) =>
        spec.Score == ScoreKind.Probability && spec.Preprocessing.Output == "logits";

    /// <summary>
    /// The method's perturbation index of the job's perturbation <paramref name="index"/>: the identity unless the job
    /// evaluates a selection (coarse-to-fine occlusion), whose runs travel in <see cref="WorkSpec.Perturbations"/>.
    /// </summary>
    public static long MethodPerturbation(this WorkSpec work, long index)
    {
        var runs = work.Perturbations;
        if (runs.Count == 0) return index;
        int lo = 0, hi = runs.Count - 1;
        while (lo < hi)
        {
            var mid = (lo + hi + 1) / 2;
            if (runs[mid].First <= index) lo = mid;
            else hi = mid - 1;
        }
        var run = runs[lo];
        if (index < run.First || index >= run.First + run.Count)
            throw new ArgumentOutOfRangeException(nameof(index), $"perturbation {index} is in none of the job's selected runs");
        return run.MethodFirst + index - run.First;
    }
}
