namespace Lantern.Explainers.Segmentation;

public enum SegmentationMethod { Grid, Slic, Felzenszwalb }

/// <summary>
/// How to cut an image into features. Segments: the approximate feature count (Grid, Slic). Compactness: SLIC's colour vs
/// space trade-off (higher = squarer superpixels; CIELAB units per grid step). Scale, Sigma, MinSize: Felzenszwalb's
/// observation scale (higher = larger segments), Gaussian pre-smoothing in pixels (0 = none) and smallest segment in
/// pixels. Defaults are scikit-image's except Segments (50, a typical LIME feature count) and Scale (100).
/// </summary>
public sealed record SegmentationParameters(
    SegmentationMethod Method,
    int Segments = 50,
    float Compactness = 10f,
    float Scale = 100f,
    float Sigma = 0.8f,
    int MinSize = 20);
