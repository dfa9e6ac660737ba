using Lantern.Contracts.Api;
using Lantern.Methods;
using Lantern.Contracts.Messages;
using Lantern.Explainers.Occlusion;
using Lantern.Gateway.Hosting;
using Lantern.Models;

namespace Lantern.Gateway.Mapping;

/// <summary>
/// Turns a submit request into a complete <see cref="JobSpec"/>: every default resolved (so workers and the summary
/// see exactly what ran), every parameter checked against the model and the image, each problem a clear error.
/// </summary>
public sealed class JobRequestMapping(ArtifactCatalog catalog, GatewayOptions options)
{
    public async Task<JobSpec> ToSpecAsync(SubmitJobRequest request, CancellationToken cancellationToken)
    {
        if (request.MethodCase != SubmitJobRequest.MethodOneofCase.Occlusion)
            GrpcErrors.InvalidArgument("choose an explanation method: set 'occlusion' (the only method available so far)");

        var model = await catalog.ModelAsync(request.ModelSha256, cancellationToken);
        var (width, height) = await catalog.ImageSizeAsync(request.ImageSha256, cancellationToken);

        var spec = new JobSpec
        {
            ModelSha256 = request.ModelSha256,
            ImageSha256 = request.ImageSha256,
            ImageWidth = width,
            ImageHeight = height,
            Preprocessing = ResolvePreprocessing(request.Preprocessing, model),
            Targets = ResolveTargets(request.Targets, model.ClassCount),
            Score = request.Score,
            Seed = request.Seed,
            Labels = { request.Labels },
            Name = request.Name,
            ClassCount = model.ClassCount,
            Occlusion = ResolveOcclusion(request.Occlusion),
        };
        CheckPlan(spec);
        return spec;
    }

    private void CheckPlan(JobSpec spec)
    {
        OcclusionPlan plan;
        try
        {
            plan = OcclusionPlan.Create(spec.ImageWidth, spec.ImageHeight, spec.Occlusion.Windows.ToExplainers());
        }
        catch (ArgumentException e)
        {
            GrpcErrors.InvalidArgument(e.Message);
            return;
        }
        if (plan.WindowCount > options.MaxEvaluationsPerJob)
            GrpcErrors.ResourceExhausted(
                $"this job needs {plan.WindowCount:N0} model evaluations, above the quota of {options.MaxEvaluationsPerJob:N0}; " +
                "use a larger stride or fewer window sizes");
    }

    private static OcclusionOptions ResolveOcclusion(OcclusionOptions requested)
    {
        if (requested.Windows.Count == 0)
            GrpcErrors.InvalidArgument("occlusion needs at least one window, e.g. height=width=16 with stride 8");
        var resolved = requested.Clone();
        foreach (var window in resolved.Windows)
        {
            if (window.Height <= 0 || window.Width <= 0)
                GrpcErrors.InvalidArgument($"window {window.Height}x{window.Width} must be at least 1x1 pixel");
            if (window.StrideY <= 0 || window.StrideX <= 0)
                GrpcErrors.InvalidArgument($"stride must be at least 1 pixel, got {window.StrideY}x{window.StrideX}");
        }
        if (resolved.Fill is null) resolved.Fill = new Fill { Kind = Fill.Types.Kind.Zero };
        if (resolved.Fill.Kind == Fill.Types.Kind.Blur && resolved.Fill.BlurSigma <= 0) resolved.Fill.BlurSigma = 10;
        if (resolved.Fill.Kind == Fill.Types.Kind.Constant
            && new[] { resolved.Fill.R, resolved.Fill.G, resolved.Fill.B }.Any(v => v is < 0 or > 255))
            GrpcErrors.InvalidArgument("a constant fill takes r, g, b between 0 and 255");
        return resolved;
    }

    private static Targets ResolveTargets(Targets? requested, int classCount)
    {
        var targets = requested?.Clone() ?? new Targets();
        foreach (var c in targets.Classes)
        {
            if (c < 0 || c >= classCount)
                GrpcErrors.InvalidArgument($"class index {c} is out of range: the model has {classCount} classes (0 to {classCount - 1})");
        }
        if (targets.Classes.Count != targets.Classes.Distinct().Count())
            GrpcErrors.InvalidArgument("each target class may be listed once");
        if (targets.Classes.Count == 0)
        {
            if (targets.TopK < 0 || targets.TopK > classCount)
                GrpcErrors.InvalidArgument($"top_k must be between 1 and {classCount}, got {targets.TopK}");
            if (targets.TopK == 0) targets.TopK = 1;
        }
        return targets;
    }

    /// <summary>Defaults come from <see cref="ModelDescriptor.Default"/> and from what the ONNX input declares.</summary>
    private static Preprocessing ResolvePreprocessing(Preprocessing? requested, OnnxModelInfo model)
    {
        var defaults = ModelDescriptor.Default;
        var p = requested?.Clone() ?? new Preprocessing();
        if (p.Width == 0) p.Width = model.InputWidth;
        if (p.Height == 0) p.Height = model.InputHeight;
        if (p.Width <= 0 || p.Height <= 0)
            GrpcErrors.InvalidArgument("the model's input size is symbolic; give preprocessing width and height");
        if (model.InputWidth > 0 && p.Width != model.InputWidth || model.InputHeight > 0 && p.Height != model.InputHeight)
            GrpcErrors.InvalidArgument(
                $"preprocessing size {p.Width}x{p.Height} does not match the model input {model.InputWidth}x{model.InputHeight}");

        p.Resize = OneOf(p.Resize, "resize", defaults.Resize, ModelDescriptor.ResizeShorterSideCrop, ModelDescriptor.ResizeStretch);
        if (p.ResizeShorterSide == 0)
            p.ResizeShorterSide = (int)Math.Round(Math.Max(p.Width, p.Height) * defaults.ResizeShorterSide / 224.0);
        if (p.Resize == ModelDescriptor.ResizeShorterSideCrop && p.ResizeShorterSide < Math.Max(p.Width, p.Height))
            GrpcErrors.InvalidArgument(
                $"resize_shorter_side {p.ResizeShorterSide} is smaller than the {p.Width}x{p.Height} crop; use at least {Math.Max(p.Width, p.Height)}");
        p.ChannelOrder = OneOf(p.ChannelOrder, "channel_order", defaults.ChannelOrder, ModelDescriptor.Rgb, ModelDescriptor.Bgr);
        p.Layout = OneOf(p.Layout, "layout", model.ChannelsFirst ? ModelDescriptor.Nchw : ModelDescriptor.Nhwc,
            ModelDescriptor.Nchw, ModelDescriptor.Nhwc);
        if ((p.Layout == ModelDescriptor.Nchw) != model.ChannelsFirst)
            GrpcErrors.InvalidArgument($"layout '{p.Layout}' does not match the model input shape [{string.Join(',', model.InputShape)}]");
        if (p.Scale == 0) p.Scale = defaults.Scale;
        if (p.Mean.Count == 0) p.Mean.Add(defaults.Mean);
        if (p.Std.Count == 0) p.Std.Add(defaults.Std);
        if (p.Mean.Count != 3 || p.Std.Count != 3)
            GrpcErrors.InvalidArgument("mean and std take exactly 3 values each, in the model's channel order");
        if (p.Std.Any(s => s == 0 || !float.IsFinite(s)))
            GrpcErrors.InvalidArgument("std values must be finite and non-zero");
        p.Output = OneOf(p.Output, "output", defaults.Output, ModelDescriptor.Logits, ModelDescriptor.Probabilities);
        return p;
    }

    private static string OneOf(string value, string field, string fallback, params string[] allowed)
    {
        if (string.IsNullOrEmpty(value)) return fallback;
        var lower = value.ToLowerInvariant();
        if (!allowed.Contains(lower))
            GrpcErrors.InvalidArgument($"{field} '{value}' is not one of: {string.Join(", ", allowed)}");
        return lower;
    }
}
