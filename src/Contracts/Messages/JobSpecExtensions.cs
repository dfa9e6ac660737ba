using System.Security.Cryptography;
using Google.Protobuf;

namespace Lantern.Contracts.Messages;

public static class JobSpecExtensions
{
    /// <summary>
    /// Bump when any method's maps change for the same spec (a new default, a fixed assembler), so results stored under
    /// the old keys are no longer reused.
    /// </summary>
    public const int ReuseVersion = 1;

    /// <summary>
    /// The memo key under which a finished job's id answers later jobs with the same inputs: a hash of the spec without
    /// what does not change the maps (who submitted it, its name, priority and class labels). Everything else in the spec
    /// is resolved content (model, image, segmentation and gradient-model hashes, preprocessing, method parameters,
    /// targets, seed), and a job's maps are a function of those alone (design invariant 1).
    /// </summary>
    public static string ReuseKey(this JobSpec spec) =>
        // Protobuf's C# writer emits fields in field-number order and omits defaults: the same spec, the same bytes.
        $"job-result/v{ReuseVersion}/{Convert.ToHexStringLower(SHA256.HashData(spec.ReuseInputs().ToByteArray()))}";

    /// <summary>The spec without what does not change the maps (see <see cref="ReuseKey"/>).</summary>
    public static JobSpec ReuseInputs(this JobSpec spec)
    {
        var inputs = spec.Clone();
        inputs.Owner = "";
        inputs.Team = "";
        inputs.Priority = 0;
        inputs.Name = "";
        inputs.Labels.Clear();
        // Planned per job (at its baseline, from the worker that scored it), so a request never carries it; like the
        // worker kind, it changes the floats only across kinds of device, never on the CPU.
        inputs.EvalBatch = 0;
        inputs.ParentJobId = ""; // an image of a dataset job is the same question as that image asked alone
        return inputs;
    }

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
