namespace Lantern.Explainers.Occlusion;

public enum FillKind { Zero, Mean, Constant, Blur }

/// <summary>
/// What an occluded window is replaced with. Zero = black pixel (0,0,0 in source space), Mean = per-channel mean of the
/// image, Constant = (R,G,B) in 0..255, Blur = the Gaussian-blurred image (sigma BlurSigma source pixels, default 10 when
/// &lt;= 0), computed once per perturber.
/// </summary>
public sealed record OcclusionFill(FillKind Kind, float R = 0, float G = 0, float B = 0, float BlurSigma = 0);

/// <summary>
/// Where a scale's windows sit when the stride does not divide (image − window).
/// <see cref="Clipped"/> (Captum's Occlusion): y = 0, s, 2s, … while y &lt; H − h + s, i.e. ⌈(H − h)/s⌉ + 1 rows, the last
/// one clipped at the image's edge, so every pixel is covered. <see cref="Inside"/> (MATLAB occlusionSensitivity with
/// MaskClipping "off"): only full windows, ⌊(H − h)/s⌋ + 1 rows, so a border of up to s − 1 pixels may be covered by none.
/// </summary>
public enum OcclusionBorder { Clipped, Inside }

/// <summary>An occlusion window of Height×Width source pixels, moved by StrideY/StrideX pixels.</summary>
public readonly record struct WindowShape(int Height, int Width, int StrideY, int StrideX);

public sealed record OcclusionParameters(IReadOnlyList<WindowShape> Scales, OcclusionFill Fill);
