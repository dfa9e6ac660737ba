using Lantern.Contracts.Messages;
using Lantern.Methods.Gradients;
using ExplainerSegmentation = Lantern.Explainers.Segmentation.Segmentation;

namespace Lantern.Methods;

/// <summary>From a job's spec to its method. The only place that knows which methods exist.</summary>
public static class MethodCatalog
{
    /// <param name="segmentation">
    /// The job's stored segmentation (see <see cref="NeedsSegmentation"/>); only perturbing and assembling need it.
    /// </param>
    /// <param name="metricMaps">The metrics method's maps (see <see cref="MetricMapShas"/>); only perturbing needs them.</param>
    public static IExplanationMethod For(JobSpec spec, ExplainerSegmentation? segmentation = null, IReadOnlyList<float[]>? metricMaps = null) =>
        spec.MethodCase switch
        {
            JobSpec.MethodOneofCase.Occlusion => new OcclusionMethod(spec.Occlusion, spec.ImageWidth, spec.ImageHeight),
            JobSpec.MethodOneofCase.Lime => new LimeMethod(spec.Lime, spec.Seed, spec.FeatureCount, segmentation),
            JobSpec.MethodOneofCase.KernelShap => new KernelShapMethod(spec.KernelShap, spec.Seed, spec.FeatureCount, segmentation),
            JobSpec.MethodOneofCase.Rise => new RiseMethod(spec.Rise, spec.Seed, spec.ImageWidth, spec.ImageHeight),
            JobSpec.MethodOneofCase.Gradient => GradientMethod(spec),
            JobSpec.MethodOneofCase.Metrics => new MetricsMethod(spec.Metrics, metricMaps),
            _ => throw new ArgumentException($"job method {spec.MethodCase} is not supported"),
        };

    private static IGradientMethod GradientMethod(JobSpec spec) => GradientMethodNames.Parse(spec.Gradient.Method) switch
    {
        GradientMethodKind.GradCam or GradientMethodKind.GradCamPlusPlus or GradientMethodKind.Cam => new LayerCamMethod(spec.Gradient, spec),
        GradientMethodKind.ScoreCam => new ScoreCamMethod(spec.Gradient, spec),
        GradientMethodKind.Activations => new ActivationsMethod(spec.Gradient, spec),
        GradientMethodKind.PooledActivations => new PooledActivationsMethod(spec.Gradient, spec),
        GradientMethodKind.DeepDream => new DeepDreamMethod(spec.Gradient, spec),
        _ => new InputGradientMethod(spec.Gradient, spec),
    };

    /// <summary>The method's name as listings and the CLI spell it: occlusion, lime, kernel-shap, rise, or the gradient method.</summary>
    public static string NameOf(JobSpec spec) => spec.MethodCase switch
    {
        JobSpec.MethodOneofCase.Occlusion => "occlusion",
        JobSpec.MethodOneofCase.Lime => "lime",
        JobSpec.MethodOneofCase.KernelShap => "kernel-shap",
        JobSpec.MethodOneofCase.Rise => "rise",
        JobSpec.MethodOneofCase.Gradient => spec.Gradient.Method,
        JobSpec.MethodOneofCase.Metrics => "metrics",
        _ => "",
    };

    public static bool NeedsSegmentation(JobSpec spec) => spec.SegmentationSha256.Length > 0;

    /// <summary>The artifacts (float32 maps) a worker fetches to perturb a metrics job; none for other methods.</summary>
    public static IReadOnlyList<string> MetricMapShas(JobSpec spec) =>
        spec.MethodCase == JobSpec.MethodOneofCase.Metrics ? [.. spec.Metrics.Maps.Select(m => m.DataSha256)] : [];
}
