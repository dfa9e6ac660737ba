namespace Lantern.Explainers.Occlusion;

public enum FillKind { Zero, Mean, Constant, Blur }

/// <summary>
/// What an occluded window is replaced with. Zero = black pixel (0,0,0 in source space), Mean = per-channel mean of the
/// image, Constant = (R,G,B) in 0..255, Blur = the Gaussian-blurred image (sigma BlurSigma source pixels, default 10 when
/// &lt;= 0), computed once per perturber.
/// </summary>
public sealed record OcclusionFill(FillKind Kind, float R = 0, float G = 0, float B = 0, float BlurSigma = 0);

/// <summary>An occlusion window of Height×Width source pixels, moved by StrideY/StrideX pixels.</summary>
public readonly record struct WindowShape(int Height, int Width, int StrideY, int StrideX);

public sealed record OcclusionParameters(IReadOnlyList<WindowShape> Scales, OcclusionFill Fill);
