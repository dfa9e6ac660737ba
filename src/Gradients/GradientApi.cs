namespace Lantern.Gradients;

/// <summary>How backpropagation passes through ReLU-like units.</summary>
public enum ReluRule
{
    /// <summary>The true gradient.</summary>
    Plain,
    /// <summary>Guided backpropagation (Springenberg et al.): only positive gradients pass, and only where the input was positive.</summary>
    Guided,
}

/// <summary>What gradient model to build from an inference model.</summary>
public sealed record GradientRequest
{
    /// <summary>Tensors whose gradient of the target score the model outputs: the model input's name and/or intermediate tensor names.</summary>
    public IReadOnlyList<string> GradientOf { get; init; } = [];

    /// <summary>Intermediate tensors output as they are (e.g. the Grad-CAM feature layer's activations).</summary>
    public IReadOnlyList<string> ValuesOf { get; init; } = [];

    /// <summary>
    /// When the model's output comes from a final Softmax (possibly followed by shape-only ops), the target is the
    /// Softmax's input (the logits), as Grad-CAM and MATLAB's gradCAM do.
    /// </summary>
    public bool TargetBeforeSoftmax { get; init; } = true;

    /// <summary>
    /// The tensor whose values are the scores (MATLAB's ReductionLayer), overriding the choice above: any output or
    /// activation of the model, e.g. the logits of a model whose Softmax is not at the very end.
    /// </summary>
    public string? TargetTensor { get; init; }

    public ReluRule Relu { get; init; } = ReluRule.Plain;

    /// <summary>The input's shape without the batch dimension, for models that leave some of it symbolic (e.g. [3,224,224]); null: from the model.</summary>
    public long[]? InputShape { get; init; }
}

/// <summary>
/// An ONNX model that runs the forward graph and, appended as ordinary ONNX nodes, the backward pass of a target score.
/// Inputs: <see cref="InputName"/> (float32 [N, …]) and <see cref="SeedName"/> (float32 [N, …<see cref="SeedShape"/>]),
/// the weights of the target score over the target tensor: a one-hot row for a class, a mask for a segmentation region.
/// Outputs: <see cref="ScoreName"/> (float32 [N], Σ seed ⊙ target), each requested gradient and each requested value.
/// Everything is float32, whatever the source model used.
/// </summary>
public sealed record GradientModel(
    byte[] Model,
    string InputName,
    string SeedName,
    long[] SeedShape,
    string TargetTensor,
    string ScoreName,
    IReadOnlyDictionary<string, string> GradientOutputs,
    IReadOnlyDictionary<string, string> ValueOutputs,
    IReadOnlyDictionary<string, long[]> Shapes,
    bool BatchIsFixed,
    IReadOnlyList<string> Notes);

/// <summary>A layer a user can name for Grad-CAM, Score-CAM or activations: a 4-D activation [C,H,W] per example.</summary>
public sealed record LayerInfo(string Name, string OpType, string NodeName, long[] Shape, bool IsDefaultCamLayer);

/// <summary>The model cannot be differentiated as asked; the message names the op and node, or the tensor, to change.</summary>
public sealed class UnsupportedModelException(string message) : Exception(message);
