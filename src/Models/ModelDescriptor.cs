namespace Lantern.Models;

/// <summary>
/// The preprocessing and labels of a model that the ONNX file does not say, read from <c>name.json</c>
/// beside <c>name.onnx</c> (see <see cref="ModelDescriptorFile"/>).
/// </summary>
/// <param name="InputSize">[height, width]; null means "take it from the ONNX input shape".</param>
/// <param name="Resize"><see cref="ResizeShorterSideCrop"/> or <see cref="ResizeStretch"/>.</param>
/// <param name="ResizeShorterSide">Shorter side after resizing, before the centre crop to <paramref name="InputSize"/>.</param>
/// <param name="ChannelOrder"><see cref="Rgb"/> or <see cref="Bgr"/>.</param>
/// <param name="Layout"><see cref="Nchw"/>, <see cref="Nhwc"/>, or null for "as the ONNX input shape says".</param>
/// <param name="Scale">Multiplies the 0..255 pixel value before the mean is subtracted.</param>
/// <param name="Mean">Per channel, in <paramref name="ChannelOrder"/>, subtracted after scaling.</param>
/// <param name="Std">Per channel, in <paramref name="ChannelOrder"/>, divides after the mean.</param>
/// <param name="Output"><see cref="Logits"/> or <see cref="Probabilities"/>.</param>
/// <param name="Labels">Labels file (one label per line, line k+1 = class k), relative to the JSON file.</param>
public sealed record ModelDescriptor(
    int[]? InputSize,
    string Resize,
    int ResizeShorterSide,
    string ChannelOrder,
    string? Layout,
    float Scale,
    float[] Mean,
    float[] Std,
    string Output,
    string? Labels)
{
    public const string ResizeShorterSideCrop = "shorter_side_crop";
    public const string ResizeStretch = "stretch";
    public const string Rgb = "rgb";
    public const string Bgr = "bgr";
    public const string Nchw = "nchw";
    public const string Nhwc = "nhwc";
    public const string Logits = "logits";
    public const string Probabilities = "probabilities";

    /// <summary>The torchvision ImageNet convention: shorter side 256, centre crop, RGB/255, ImageNet mean/std, logits.</summary>
    public static ModelDescriptor Default { get; } = new(
        InputSize: null,
        Resize: ResizeShorterSideCrop,
        ResizeShorterSide: 256,
        ChannelOrder: Rgb,
        Layout: null,
        Scale: 1f / 255f,
        Mean: [0.485f, 0.456f, 0.406f],
        Std: [0.229f, 0.224f, 0.225f],
        Output: Logits,
        Labels: null);

    // Records compare arrays by reference; descriptors are values, so compare contents.
    public bool Equals(ModelDescriptor? other) =>
        other is not null
        && SameInts(InputSize, other.InputSize)
        && Resize == other.Resize
        && ResizeShorterSide == other.ResizeShorterSide
        && ChannelOrder == other.ChannelOrder
        && Layout == other.Layout
        && Scale.Equals(other.Scale)
        && Mean.AsSpan().SequenceEqual(other.Mean)
        && Std.AsSpan().SequenceEqual(other.Std)
        && Output == other.Output
        && Labels == other.Labels;

    public override int GetHashCode() =>
        HashCode.Combine(Resize, ResizeShorterSide, ChannelOrder, Layout, Scale, Output, Labels);

    private static bool SameInts(int[]? a, int[]? b) =>
        a is null ? b is null : b is not null && a.AsSpan().SequenceEqual(b);
}
