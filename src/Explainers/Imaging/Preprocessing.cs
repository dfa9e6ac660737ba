namespace Lantern.Explainers.Imaging;

public enum ChannelOrder { Rgb, Bgr }

public enum TensorLayout { Nchw, Nhwc }

public enum ResizeMode { Stretch, ShorterSideCenterCrop }

/// <summary>
/// How a model wants its input: resize the source to Width×Height (Stretch), or resize so the shorter side is
/// ResizeShorterSide and centre-crop Width×Height; then value = (pixel * Scale - Mean[c]) / Std[c], channels in ChannelOrder
/// (Mean/Std are given in the model's channel order), laid out as Layout (one image, no batch dim: C×H×W or H×W×C).
/// </summary>
public sealed record Preprocessing(int Width, int Height, ResizeMode Resize, int ResizeShorterSide, ChannelOrder ChannelOrder,
    TensorLayout Layout, float Scale, float[] Mean, float[] Std);
