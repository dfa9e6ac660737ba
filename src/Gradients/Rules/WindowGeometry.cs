using Lantern.Gradients.Graph;
using Onnx;

namespace Lantern.Gradients.Rules;

/// <summary>
/// The sliding-window geometry of a Conv or pool, resolved against the probed spatial sizes (auto_pad included), and the
/// transposed window that carries a gradient back from the output to the input's exact size.
/// </summary>
internal sealed record WindowGeometry(long[] Kernel, long[] Strides, long[] Dilations, long[] PadsBegin, long[] PadsEnd)
{
    public static WindowGeometry Resolve(NodeProto node, long[] kernel, long[] inputSpatial, long[] outputSpatial)
    {
        var rank = kernel.Length;
        var strides = node.GetInts("strides") ?? Ones(rank);
        var dilations = node.GetInts("dilations") ?? Ones(rank);
        var autoPad = node.GetString("auto_pad") ?? "NOTSET";
        var begin = new long[rank];
        var end = new long[rank];
        if (autoPad is "SAME_UPPER" or "SAME_LOWER")
        {
            for (var i = 0; i < rank; i++)
            {
                var total = Math.Max((outputSpatial[i] - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - inputSpatial[i], 0);
                begin[i] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
                end[i] = total - begin[i];
            }
        }
        else if (autoPad is "NOTSET" or "" && node.GetInts("pads") is { } pads)
        {
            begin = pads[..rank];
            end = pads[rank..];
        }
        return new WindowGeometry(kernel, strides, dilations, begin, end);
    }

    private static long[] Ones(int rank) => Enumerable.Repeat(1L, rank).ToArray();

    /// <summary>
    /// Carries dY back through the window with a ConvTranspose (weights <paramref name="weights"/>, <paramref name="group"/>
    /// groups), cropped to the input's size by the begin pads, and zero-padded at the end for input rows no window read.
    /// </summary>
    public string Transposed(BackwardContext context, string dY, string weights, long group, long[] inputSpatial, long[] outputSpatial)
    {
        var rank = Kernel.Length;
        var cropEnd = new long[rank];
        var unread = new long[rank];
        for (var i = 0; i < rank; i++)
        {
            var full = (outputSpatial[i] - 1) * Strides[i] + (Kernel[i] - 1) * Dilations[i] + 1;
            cropEnd[i] = Math.Max(full - PadsBegin[i] - inputSpatial[i], 0);
            unread[i] = Math.Max(inputSpatial[i] + PadsBegin[i] - full, 0);
        }
        var dX = context.Node("ConvTranspose", [dY, weights],
            Attributes.Ints("kernel_shape", Kernel), Attributes.Ints("strides", Strides), Attributes.Ints("dilations", Dilations),
            Attributes.Ints("pads", [.. PadsBegin, .. cropEnd]), Attributes.Int("group", group));
        if (unread.All(u => u == 0)) return dX;
        return context.Node("Pad", [dX, context.Ints([0, 0, .. new long[rank], 0, 0, .. unread])]);
    }
}
