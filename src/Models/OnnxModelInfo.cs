namespace Lantern.Models;

/// <summary>Element type of a graph input or output, as far as Lantern cares.</summary>
public enum TensorElementKind { Float32, Float16, Other }

/// <summary>
/// What the ONNX file itself says about a classifier's image input and score output.
/// Shapes use -1 for symbolic or missing dimensions.
/// </summary>
/// <param name="ClassCount">Product of the output dimensions after the batch dimension; -1 when any of them is unknown.</param>
/// <param name="BatchIsFixed">Input dimension 0 is a fixed number (in practice 1), so perturbations cannot be batched.</param>
/// <param name="ChannelsFirst">[N,3,H,W] (true) or [N,H,W,3] (false).</param>
/// <param name="InputHeight">-1 when the model leaves the height symbolic.</param>
/// <param name="InputWidth">-1 when the model leaves the width symbolic.</param>
public sealed record OnnxModelInfo(
    string InputName,
    TensorElementKind InputType,
    long[] InputShape,
    string OutputName,
    TensorElementKind OutputType,
    long[] OutputShape,
    int ClassCount,
    bool BatchIsFixed,
    bool ChannelsFirst,
    int InputHeight,
    int InputWidth);

/// <summary>The uploaded model (or its descriptor) cannot be used; the message tells the user what to fix.</summary>
public sealed class InvalidModelException(string message) : Exception(message);
