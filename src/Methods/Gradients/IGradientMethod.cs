using Lantern.Explainers;
using Lantern.Explainers.Imaging;
using Lantern.Gradients;

namespace Lantern.Methods.Gradients;

/// <summary>
/// A method that runs the job's gradient model (the model with its backward pass appended) instead of the plain model.
/// A worker evaluates each input of a work item once per target (one seed each; methods that only need the forward pass
/// run the same model, their gradients are not computed) and folds what comes back into one map per target per item;
/// the coordinator sums the items' maps in item order.
/// </summary>
public interface IGradientMethod : IExplanationMethod
{
    /// <summary>The gradient model the method needs, for a model whose input is <paramref name="inputName"/>.</summary>
    GradientRequest Request(string inputName);

    /// <summary>Score-CAM perturbs the input with the feature layer's activations of the unperturbed input.</summary>
    bool NeedsInputLayerValues => false;

    /// <summary>CAM weighs the feature layer with the classifier head's weights.</summary>
    bool NeedsCamHead => false;

    IGradientEvaluation Prepare(GradientJobInputs inputs);

    IPerturber IExplanationMethod.CreatePerturber(RgbImage image, ImagePreprocessor preprocessor) =>
        throw new InvalidOperationException("gradient methods are prepared by the worker's gradient path (IGradientMethod.Prepare)");

    MethodOutput IExplanationMethod.Assemble(ReadOnlySpan<float> baseline, ReadOnlySpan<float> scores, int[] targets) =>
        throw new InvalidOperationException("gradient methods assemble from their work items' maps");
}

/// <summary>A job's inputs as a worker prepares them: the perturber of its evaluations and the fold of their results.</summary>
public interface IGradientEvaluation : IPerturber
{
    /// <summary>Adds one evaluation's contribution for one target to that target's map of the work item.</summary>
    void Accumulate(in GradientRow row, Span<float> map);
}

/// <param name="Input">The preprocessed, unperturbed image.</param>
/// <param name="BlackImage">A black image, preprocessed (integrated gradients' "black" baseline).</param>
/// <param name="LayerValues">The feature layer's activations of <paramref name="Input"/> (C×H×W), when asked for.</param>
/// <param name="InputScores">Each target's score for <paramref name="Input"/>, when the layer values are asked for.</param>
/// <param name="CamHead">The classifier head's weights, when asked for.</param>
public sealed record GradientJobInputs(
    float[] Input, float[] BlackImage, int[] Targets, float[]? LayerValues = null, float[]? InputScores = null,
    CamHeadWeights? CamHead = null);

/// <summary>What one evaluation of the gradient model gave for one target.</summary>
public readonly ref struct GradientRow
{
    public long Index { get; init; }
    public int TargetSlot { get; init; }
    /// <summary>The target's index in the target tensor (the class).</summary>
    public int TargetClass { get; init; }
    /// <summary>The target score: Σ seed ⊙ target tensor.</summary>
    public float Score { get; init; }
    public ReadOnlySpan<float> Input { get; init; }
    public ReadOnlySpan<float> InputGradient { get; init; }
    public ReadOnlySpan<float> LayerValues { get; init; }
    public ReadOnlySpan<float> LayerGradient { get; init; }
}
