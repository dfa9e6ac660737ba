using Onnx;

namespace Lantern.Gradients.Rules;

/// <summary>The backward pass of one op type: reads the gradients of a node's outputs, adds those of its inputs.</summary>
internal interface IBackwardRule
{
    string OpType { get; }

    /// <summary>Appends the nodes computing the input gradients; called only when some output of <paramref name="node"/> has a gradient.</summary>
    void Emit(BackwardContext context, NodeProto node);
}
