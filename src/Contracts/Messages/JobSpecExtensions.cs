using Lantern.Contracts.Api;

namespace Lantern.Contracts.Messages;

public static class JobSpecExtensions
{
    /// <summary>True when the job explains probabilities of a model that outputs logits: scores pass through softmax.</summary>
    public static bool AppliesSoftmax(this JobSpec spec) =>
        spec.Score == ScoreKind.Probability && spec.Preprocessing.Output == "logits";
}
