using Lantern.Explainers.Imaging;
using Lantern.Explainers.Occlusion;
using Api = Lantern.Contracts.Messages;

namespace Lantern.Methods;

/// <summary>From the wire form of a job's parameters to the explainers' types. The gateway has resolved every default.</summary>
public static class ExplainersMapping
{
    public static Preprocessing ToExplainers(this Api.Preprocessing p) => new(
        p.Width, p.Height,
        p.Resize == "stretch" ? ResizeMode.Stretch : ResizeMode.ShorterSideCenterCrop,
        p.ResizeShorterSide,
        p.ChannelOrder == "bgr" ? ChannelOrder.Bgr : ChannelOrder.Rgb,
        p.Layout == "nhwc" ? TensorLayout.Nhwc : TensorLayout.Nchw,
        p.Scale, [.. p.Mean], [.. p.Std]);

    public static OcclusionFill ToExplainers(this Api.Fill fill) => new(
        fill.Kind switch
        {
            Api.Fill.Types.Kind.Mean => FillKind.Mean,
            Api.Fill.Types.Kind.Constant => FillKind.Constant,
            Api.Fill.Types.Kind.Blur => FillKind.Blur,
            _ => FillKind.Zero,
        },
        fill.R, fill.G, fill.B, fill.BlurSigma);

    public static IReadOnlyList<WindowShape> ToExplainers(this IEnumerable<Api.Window> windows) =>
        [.. windows.Select(w => new WindowShape(w.Height, w.Width, w.StrideY, w.StrideX))];
}
