using Lantern.Contracts.Api;
using Lantern.Explainers.Metrics;
using Lantern.Explainers.Segmentation;
using Lantern.Methods.Gradients;

namespace Lantern.Gateway.Mapping;

/// <summary>Defaults and checks for the sampling methods' options; every default is written into the spec.</summary>
public static class MethodOptions
{
    public static LimeOptions Resolve(LimeOptions requested)
    {
        var lime = requested.Clone();
        RequireSamples(lime.Samples, "lime", 1000);
        lime.Segmentation = Resolve(lime.Segmentation);
        lime.Hide = ResolveFill(lime.Hide, Fill.Types.Kind.FeatureMean, allowFeatureMean: true);
        if (lime.KernelWidth == 0) lime.KernelWidth = 0.25f;
        if (lime.KernelWidth < 0 || !float.IsFinite(lime.KernelWidth))
            GrpcErrors.InvalidArgument($"kernel_width must be positive, got {lime.KernelWidth}");
        lime.FeatureSelection = string.IsNullOrEmpty(lime.FeatureSelection) ? "auto" : lime.FeatureSelection.ToLowerInvariant();
        if (lime.FeatureSelection is not ("auto" or "forward_selection" or "highest_weights" or "none"))
            GrpcErrors.InvalidArgument(
                $"feature_selection '{lime.FeatureSelection}' is not one of: auto, forward_selection, highest_weights, none");
        if (lime.NumFeatures == 0) lime.NumFeatures = 10;
        if (lime.MaskFeatures == 0) lime.MaskFeatures = 5;
        if (lime.NumFeatures < 0 || lime.MaskFeatures < 0)
            GrpcErrors.InvalidArgument("num_features and mask_features must be positive");
        if (lime.CheckEvery == 0) lime.CheckEvery = 100;
        if (lime.StableChecks == 0) lime.StableChecks = 3;
        if (lime.StableTop == 0) lime.StableTop = lime.MaskFeatures;
        if (lime.CheckEvery < 2 || lime.StableChecks < 1 || lime.StableTop < 1)
            GrpcErrors.InvalidArgument("check_every must be at least 2, stable_checks and stable_top at least 1");
        return lime;
    }

    public static KernelShapOptions Resolve(KernelShapOptions requested)
    {
        var shap = requested.Clone();
        RequireSamples(shap.Samples, "kernel_shap", 1000);
        shap.Segmentation = Resolve(shap.Segmentation);
        shap.Hide = ResolveFill(shap.Hide, Fill.Types.Kind.FeatureMean, allowFeatureMean: true);
        return shap;
    }

    public static RiseOptions Resolve(RiseOptions requested)
    {
        var rise = requested.Clone();
        RequireSamples(rise.Samples, "rise", 2000);
        if (rise.Cells == 0) rise.Cells = 7;
        if (rise.Cells < 2) GrpcErrors.InvalidArgument($"rise needs at least 2 cells per side, got {rise.Cells}");
        if (rise.Density == 0) rise.Density = 0.5f;
        if (rise.Density is <= 0 or >= 1) GrpcErrors.InvalidArgument($"rise density must be between 0 and 1, got {rise.Density}");
        return rise;
    }

    public static GradientOptions Resolve(GradientOptions requested)
    {
        var g = requested.Clone();
        g.Method = g.Method.ToLowerInvariant();
        if (g.Method == DeepDreamMethod.MethodName)
            GrpcErrors.InvalidArgument("deep dream has options of its own: submit it with deep_dream (DeepDreamOptions), not gradient");
        if (!GradientMethodNames.TryParse(g.Method, out var kind))
            GrpcErrors.InvalidArgument($"gradient method '{requested.Method}' is not one of: {string.Join(", ", GradientMethodNames.All)}");
        if (!GradientMethodNames.UsesLayer(kind) && g.Layer.Length > 0)
            GrpcErrors.InvalidArgument($"{g.Method} explains the input; layer applies to gradcam, gradcam++, cam, scorecam, activations and pooled-activations");
        var integrated = kind == GradientMethodKind.IntegratedGradients
                         || kind == GradientMethodKind.SmoothGrad && g.SmoothOver == "integrated-gradients";
        if (g.Steps == 0) g.Steps = 32;
        if (g.Steps is < 1 or > 4096) GrpcErrors.InvalidArgument($"steps must be between 1 and 4096, got {g.Steps}");
        g.Baseline = string.IsNullOrEmpty(g.Baseline) ? "zero" : g.Baseline.ToLowerInvariant();
        if (g.Baseline is not ("zero" or "black"))
            GrpcErrors.InvalidArgument($"baseline '{g.Baseline}' is not one of: zero, black");
        g.Integration = string.IsNullOrEmpty(g.Integration) ? "gausslegendre" : g.Integration.ToLowerInvariant();
        if (g.Integration is not ("gausslegendre" or "riemann_left" or "riemann_right" or "riemann_middle" or "riemann_trapezoid"))
            GrpcErrors.InvalidArgument(
                $"integration '{g.Integration}' is not one of: gausslegendre, riemann_left, riemann_right, riemann_middle, riemann_trapezoid");
        if (integrated && g.Integration == "riemann_trapezoid" && g.Steps < 2)
            GrpcErrors.InvalidArgument("the trapezoid rule needs at least 2 steps");
        if (g.SmoothSamples == 0) g.SmoothSamples = 25;
        if (g.SmoothSamples < 1) GrpcErrors.InvalidArgument($"smooth_samples must be at least 1, got {g.SmoothSamples}");
        if (g.SmoothSigma == 0) g.SmoothSigma = 0.15f;
        if (g.SmoothSigma < 0 || !float.IsFinite(g.SmoothSigma))
            GrpcErrors.InvalidArgument($"smooth_sigma must be positive, got {g.SmoothSigma}");
        g.SmoothOver = string.IsNullOrEmpty(g.SmoothOver) ? "saliency" : g.SmoothOver.ToLowerInvariant();
        if (!GradientMethodNames.Smoothable.Contains(g.SmoothOver))
            GrpcErrors.InvalidArgument($"smooth_over '{g.SmoothOver}' is not one of: {string.Join(", ", GradientMethodNames.Smoothable)}");
        if (g.TopChannels == 0) g.TopChannels = 8;
        if (g.TopChannels < 1) GrpcErrors.InvalidArgument($"top_channels must be at least 1, got {g.TopChannels}");
        return g;
    }

    /// <summary>The metrics' options without their maps (the caller stores those): names checked, defaults written out.</summary>
    public static Contracts.Messages.MetricsOptions Resolve(MetricsOptions requested)
    {
        var names = requested.Metrics.Count == 0 ? [.. MetricCurves.Names] : requested.Metrics.Select(m => m.Trim().ToLowerInvariant()).ToList();
        foreach (var name in names)
            if (!MetricCurves.TryParse(name, out _))
                GrpcErrors.InvalidArgument($"metric '{name}' is not one of: {string.Join(", ", MetricCurves.Names)}");
        if (names.Distinct().Count() != names.Count) GrpcErrors.InvalidArgument("each metric may be listed once");
        var steps = requested.Steps == 0 ? DefaultMetricSteps : requested.Steps;
        if (steps is < 1 or > 10_000) GrpcErrors.InvalidArgument($"metric steps must be between 1 and 10000, got {steps}");
        var resolved = new Contracts.Messages.MetricsOptions
        {
            Steps = steps,
            DeletionFill = SpecMapping.ToSpec<Contracts.Messages.Fill>(ResolveFill(requested.DeletionFill, Fill.Types.Kind.Zero, allowFeatureMean: false)),
            InsertionFill = SpecMapping.ToSpec<Contracts.Messages.Fill>(ResolveFill(requested.InsertionFill, Fill.Types.Kind.Blur, allowFeatureMean: false)),
        };
        resolved.Metrics.Add(names);
        return resolved;
    }

    /// <summary>Points on each metric curve besides the unperturbed one (RISE removes 224 pixels a step of a 224×224 input: 224).</summary>
    public const int DefaultMetricSteps = 100;

    public static Contracts.Api.Segmentation Resolve(Contracts.Api.Segmentation? requested)
    {
        var s = requested?.Clone() ?? new Contracts.Api.Segmentation();
        s.Method = string.IsNullOrEmpty(s.Method) ? "slic" : s.Method.ToLowerInvariant();
        if (s.Method is not ("slic" or "felzenszwalb" or "grid"))
            GrpcErrors.InvalidArgument($"segmentation method '{s.Method}' is not one of: slic, felzenszwalb, grid");
        if (s.Segments == 0) s.Segments = 50;
        if (s.Compactness == 0) s.Compactness = 10;
        if (s.Scale == 0) s.Scale = 100;
        if (s.Sigma == 0) s.Sigma = 0.8f;
        if (s.MinSize == 0) s.MinSize = 20;
        if (!(float.IsFinite(s.Compactness) && s.Compactness > 0 && float.IsFinite(s.Scale) && s.Scale > 0 && float.IsFinite(s.Sigma) && s.Sigma >= 0))
            GrpcErrors.InvalidArgument($"segmentation compactness and scale must be positive numbers and sigma at least 0, got {s.Compactness}, {s.Scale}, {s.Sigma}");
        return s;
    }

    public static SegmentationParameters ToExplainers(Contracts.Api.Segmentation s) => new(
        s.Method switch
        {
            "grid" => SegmentationMethod.Grid,
            "felzenszwalb" => SegmentationMethod.Felzenszwalb,
            _ => SegmentationMethod.Slic,
        },
        s.Segments, s.Compactness, s.Scale, s.Sigma, s.MinSize);

    public static Fill ResolveFill(Fill? requested, Fill.Types.Kind fallback, bool allowFeatureMean)
    {
        var fill = requested?.Clone() ?? new Fill { Kind = fallback };
        if (fill.Kind == Fill.Types.Kind.FeatureMean && !allowFeatureMean)
            GrpcErrors.InvalidArgument("the feature_mean fill needs superpixels: use it with lime or kernel_shap");
        if (fill.Kind == Fill.Types.Kind.Blur && allowFeatureMean)
            GrpcErrors.InvalidArgument("lime and kernel_shap hide a feature with one colour: use feature_mean, mean, zero or a constant");
        if (fill.Kind == Fill.Types.Kind.Blur && fill.BlurSigma == 0) fill.BlurSigma = 10;
        if (fill.Kind == Fill.Types.Kind.Blur && !(fill.BlurSigma > 0 && fill.BlurSigma <= 1000))
            GrpcErrors.InvalidArgument($"blur_sigma must be a number of pixels above 0 and at most 1000, got {fill.BlurSigma}");
        // Written as !(in range) so that NaN, which fails every comparison, is refused too.
        if (fill.Kind == Fill.Types.Kind.Constant && new[] { fill.R, fill.G, fill.B }.Any(v => !(v >= 0 && v <= 255)))
            GrpcErrors.InvalidArgument($"a constant fill takes r, g, b between 0 and 255, got {fill.R}, {fill.G}, {fill.B}");
        return fill;
    }

    private static void RequireSamples(int samples, string method, int typical)
    {
        if (samples < 1)
            GrpcErrors.InvalidArgument($"{method} needs samples of at least 1, got {samples} (a typical value is {typical})");
    }
}
