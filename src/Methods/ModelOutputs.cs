using Lantern.Contracts.Messages;
using Lantern.Explainers.Scoring;

namespace Lantern.Methods;

/// <summary>How a job's model output reads to a person: probabilities and labels, as the summary and the result show them.</summary>
public static class ModelOutputs
{
    /// <summary>The model's output as probabilities: softmax of logits, or the output itself for a softmax model.</summary>
    public static float[] Probabilities(this JobSpec spec, IReadOnlyList<float> output) =>
        spec.Preprocessing.Output == "logits" ? Scores.Softmax([.. output]) : [.. output];

    public static string LabelOf(this JobSpec spec, int classIndex) =>
        classIndex < spec.Labels.Count ? spec.Labels[classIndex] : "";
}
