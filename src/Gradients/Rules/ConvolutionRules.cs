using Lantern.Gradients.Graph;
using Onnx;

namespace Lantern.Gradients.Rules;

/// <summary>Conv (groups, depthwise, strides, pads, auto_pad, dilations): dX = ConvTranspose(dY, W) cropped or padded to X.</summary>
internal sealed class ConvRule : IBackwardRule
{
    public string OpType => "Conv";

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is not { } dY) return;
        if (node.Input.Skip(1).Any(context.NeedsGradient))
            throw new UnsupportedModelException($"Conv (node '{node.Describe()}') computes its weights from the input; Lantern differentiates only Convs with constant weights");
        var x = node.Input[0];
        var inputSpatial = context.ShapeOf(x)[2..];
        var outputSpatial = context.ShapeOf(node.Output[0])[2..];
        var kernel = node.GetInts("kernel_shape") ?? context.ShapeOf(node.Input[1])[2..];
        var geometry = WindowGeometry.Resolve(node, kernel, inputSpatial, outputSpatial);
        context.Accumulate(x, geometry.Transposed(context, dY, node.Input[1], node.GetInt("group", 1), inputSpatial, outputSpatial));
    }
}

/// <summary>
/// ConvTranspose: the adjoint of a transposed convolution is the convolution with the same weights, strides, dilations
/// and groups, its pads being the ones the transposed convolution cropped.
/// With <c>output_shape</c> the crop is total = full − output_shape, split as the ONNX spec says and ONNX Runtime does:
/// SAME_UPPER crops ⌊total/2⌋ at the start, anything else (NOTSET included) crops the odd pixel at the start,
/// total − ⌊total/2⌋. Without it, SAME_UPPER/SAME_LOWER crop to input·stride, the odd pixel at the start for SAME_LOWER.
/// </summary>
internal sealed class ConvTransposeRule : IBackwardRule
{
    public string OpType => "ConvTranspose";

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is not { } dY) return;
        if (node.Input.Skip(1).Any(context.NeedsGradient))
            throw new UnsupportedModelException($"ConvTranspose (node '{node.Describe()}') computes its weights from the input; Lantern differentiates only constant weights");
        var x = node.Input[0];
        var inputSpatial = context.ShapeOf(x)[2..];
        var outputSpatial = context.ShapeOf(node.Output[0])[2..];
        var kernel = node.GetInts("kernel_shape") ?? context.ShapeOf(node.Input[1])[2..];
        var rank = kernel.Length;
        var strides = node.GetInts("strides") ?? Enumerable.Repeat(1L, rank).ToArray();
        var dilations = node.GetInts("dilations") ?? Enumerable.Repeat(1L, rank).ToArray();
        var outputPadding = node.GetInts("output_padding") ?? new long[rank];
        var autoPad = node.GetString("auto_pad") ?? "NOTSET";
        var explicitPads = node.GetInts("pads");
        var outputShape = node.GetInts("output_shape") is { Length: > 0 } requested ? requested[^rank..] : null;
        var begin = new long[rank];
        var end = new long[rank];
        for (var i = 0; i < rank; i++)
        {
            var total = strides[i] * (inputSpatial[i] - 1) + outputPadding[i] + (kernel[i] - 1) * dilations[i] + 1 - outputSpatial[i];
            if (total < 0)
                throw new UnsupportedModelException($"ConvTranspose (node '{node.Describe()}') produces {outputSpatial[i]} positions on spatial axis {i}, more than its input covers; Lantern cannot differentiate it");
            begin[i] = (autoPad, outputShape) switch
            {
                ("SAME_UPPER", _) => total / 2,
                ("SAME_LOWER", _) or (_, not null) => total - total / 2,
                _ => explicitPads?[i] ?? 0,
            };
            end[i] = total - begin[i];
        }
        var dX = context.Node("Conv", [dY, node.Input[1]],
            Attributes.Ints("kernel_shape", kernel), Attributes.Ints("strides", strides), Attributes.Ints("dilations", dilations),
            Attributes.Ints("pads", [.. begin, .. end]), Attributes.Int("group", node.GetInt("group", 1)));
        context.Accumulate(x, dX);
    }
}
