using Lantern.Contracts.Api;
using Lantern.Methods;
using Lantern.Contracts.Messages;
using Lantern.Explainers.Segmentation;
using Lantern.Storage;
using Lantern.Gateway.Hosting;
using Lantern.Gateway.Quotas;
using Lantern.Models;
using Fill = Lantern.Contracts.Api.Fill;
using OcclusionOptions = Lantern.Contracts.Api.OcclusionOptions;
using Preprocessing = Lantern.Contracts.Api.Preprocessing;
using ScoreKind = Lantern.Contracts.Api.ScoreKind;
using Targets = Lantern.Contracts.Api.Targets;

namespace Lantern.Gateway.Mapping;

/// <summary>
/// Turns a submit request into a complete <see cref="JobSpec"/>: every default resolved (so workers and the summary
/// see exactly what ran), every parameter checked against the model and the image, each problem a clear error.
/// </summary>
/// <param name="memo">Where segmentations are found again by (image, parameters), across processes; null: in memory only.</param>
public sealed class JobRequestMapping(ArtifactCatalog catalog, IArtifactStore artifacts, GatewayOptions options, GradientModels gradientModels,
    RegisteredModels registered, IMemoStore? memo = null)
{
    /// <summary>Bump when a segmenter's output for the same image and parameters changes, so old memo entries are not used.</summary>
    private const int SegmenterVersion = 1;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, StoredSegmentation> _segmentations = new();

    /// <param name="limits">The caller's quotas; null: the node's defaults.</param>
    /// <param name="team">The caller's team, whose registered models <see cref="SubmitJobRequest.Model"/> may name.</param>
    public async Task<JobSpec> ToSpecAsync(SubmitJobRequest request, CancellationToken cancellationToken, QuotaLimits? limits = null,
        string team = "")
    {
        request = await registered.ResolveAsync(request, team, cancellationToken);
        limits ??= options.Quotas;
        // Before anything is resolved: 10,000 listed classes are refused for their number, not their first duplicate.
        if (request.Targets is { } asked)
            QuotaPolicy.Check(limits, QuotaLimits.TargetsPerJob, TargetCount(asked), "the number of targets", "explain fewer classes per job");
        if (request.MethodCase == SubmitJobRequest.MethodOneofCase.Metrics) // a metrics job's targets are its maps
            QuotaPolicy.Check(limits, QuotaLimits.TargetsPerJob, request.Metrics.Maps.Count, "the number of maps", "score fewer maps per job");
        if (request.MethodCase == SubmitJobRequest.MethodOneofCase.None)
            GrpcErrors.InvalidArgument("choose an explanation method: set one of occlusion, lime, kernel_shap, rise, gradient, metrics");

        var model = await catalog.ModelAsync(request.ModelSha256, cancellationToken);
        var (width, height) = await catalog.ImageSizeAsync(request.ImageSha256, cancellationToken);

        var spec = new JobSpec
        {
            ModelSha256 = request.ModelSha256,
            ImageSha256 = request.ImageSha256,
            ImageWidth = width,
            ImageHeight = height,
            Preprocessing = SpecMapping.ToSpec<Contracts.Messages.Preprocessing>(ResolvePreprocessing(request.Preprocessing, model)),
            Targets = SpecMapping.ToSpec<Contracts.Messages.Targets>(ResolveTargets(request.Targets, model.ClassCount)),
            Score = (Contracts.Messages.ScoreKind)request.Score,
            Seed = request.Seed,
            Labels = { request.Labels },
            Name = request.Name,
            ClassCount = model.ClassCount,
            OutputShape = { model.OutputShape.Skip(1) },
            Priority = request.Priority,   // orders this job among its owner's jobs (WorkQueue); not between users
        };
        switch (request.MethodCase)
        {
            case SubmitJobRequest.MethodOneofCase.Occlusion:
                spec.Occlusion = SpecMapping.ToSpec<Contracts.Messages.OcclusionOptions>(ResolveOcclusion(request.Occlusion));
                break;
            case SubmitJobRequest.MethodOneofCase.Lime:
                var lime = MethodOptions.Resolve(request.Lime);
                await SegmentAsync(spec, lime.Segmentation, cancellationToken);
                spec.Lime = SpecMapping.ToSpec<Contracts.Messages.LimeOptions>(lime);
                break;
            case SubmitJobRequest.MethodOneofCase.KernelShap:
                var shap = MethodOptions.Resolve(request.KernelShap);
                await SegmentAsync(spec, shap.Segmentation, cancellationToken);
                spec.KernelShap = SpecMapping.ToSpec<Contracts.Messages.KernelShapOptions>(shap);
                break;
            case SubmitJobRequest.MethodOneofCase.Rise:
                spec.Rise = SpecMapping.ToSpec<Contracts.Messages.RiseOptions>(MethodOptions.Resolve(request.Rise));
                break;
            case SubmitJobRequest.MethodOneofCase.Gradient:
                spec.Gradient = SpecMapping.ToSpec<Contracts.Messages.GradientOptions>(MethodOptions.Resolve(request.Gradient));
                await gradientModels.PrepareAsync(spec, model, cancellationToken);
                break;
            case SubmitJobRequest.MethodOneofCase.Metrics:
                await MetricsAsync(spec, request, cancellationToken);
                break;
            case SubmitJobRequest.MethodOneofCase.DeepDream:
                await DeepDreamAsync(spec, request, model, limits, cancellationToken);
                break;
        }
        if (spec.Targets.Regions.Count > 0) CheckRegions(spec);
        CheckQuota(spec, limits);
        return spec;
    }

    /// <summary>
    /// The spec of one image of a dataset job: the template (the dataset's first image, mapped by
    /// <see cref="ToSpecAsync"/>) with this image, its size and, for feature methods, its own segmentation; checked as a
    /// job submitted for this image alone would be, so its maps are that job's.
    /// </summary>
    public async Task<JobSpec> ForImageAsync(JobSpec template, string imageSha256, CancellationToken cancellationToken)
    {
        var spec = template.Clone();
        spec.ImageSha256 = imageSha256;
        (spec.ImageWidth, spec.ImageHeight) = await catalog.ImageSizeAsync(imageSha256, cancellationToken);
        spec.SegmentationSha256 = "";
        spec.FeatureCount = 0;
        switch (spec.MethodCase)
        {
            case JobSpec.MethodOneofCase.Lime:
                await SegmentAsync(spec, SpecMapping.ToSpec<Contracts.Api.Segmentation>(spec.Lime.Segmentation), cancellationToken);
                break;
            case JobSpec.MethodOneofCase.KernelShap:
                await SegmentAsync(spec, SpecMapping.ToSpec<Contracts.Api.Segmentation>(spec.KernelShap.Segmentation), cancellationToken);
                break;
            case JobSpec.MethodOneofCase.Metrics:
                GrpcErrors.InvalidArgument("metrics score given maps of one image; a dataset job cannot run them");
                break;
            case JobSpec.MethodOneofCase.Gradient when spec.Gradient.Method == Lantern.Methods.Gradients.DeepDreamMethod.MethodName:
                GrpcErrors.InvalidArgument("deep dream synthesises one image per target rather than explaining images; submit it without a dataset");
                break;
        }
        try
        {
            // The per-job evaluation quota was checked on the template, with the submitter's limits; here only whether
            // this image's job can be planned at all (e.g. a window larger than the image).
            _ = MethodCatalog.For(spec).PerturbationCount;
        }
        catch (ArgumentException e)
        {
            GrpcErrors.InvalidArgument(e.Message);
        }
        return spec;
    }

    /// <summary>
    /// Deep dream runs as a gradient method ("deep-dream", the gradient of the targets' score with respect to the input).
    /// Its targets are the request's classes, or the channels "LAYER:C1,C2,..." names: the layer is then the target tensor
    /// and each channel's mean activation the score.
    /// </summary>
    private async Task DeepDreamAsync(JobSpec spec, SubmitJobRequest request, OnnxModelInfo model, QuotaLimits limits,
        CancellationToken cancellationToken)
    {
        var options = request.DeepDream;
        if (options.Start is not ("" or "noise" or "image"))
            GrpcErrors.InvalidArgument($"deep dream start must be noise or image, not '{options.Start}'");
        var (layer, channels) = ParseDreamChannels(options.Channel);
        var dream = new Contracts.Messages.GradientOptions
        {
            Method = Lantern.Methods.Gradients.DeepDreamMethod.MethodName,
            DreamOctaves = options.Octaves == 0 ? 3 : options.Octaves,
            DreamIterations = options.Iterations == 0 ? 20 : options.Iterations,
            DreamFromImage = options.Start == "image",
        };
        try
        {
            Lantern.Methods.Gradients.DeepDream.Validate(new Lantern.Methods.Gradients.DeepDreamOptions(
                Octaves: dream.DreamOctaves, Iterations: dream.DreamIterations));
        }
        catch (ArgumentException error)
        {
            GrpcErrors.InvalidArgument(error.Message);
        }
        if (!model.ChannelsFirst)
            GrpcErrors.InvalidArgument(
                $"deep dream needs a channels-first image input [N,3,H,W]; the model's is [{string.Join(',', model.InputShape)}]");
        if (spec.Targets.Regions.Count > 0)
            GrpcErrors.InvalidArgument("deep dream's targets are classes (targets.classes or top_k) or channels (channel), not regions");
        if (channels.Length > 0)
        {
            if (request.Targets is { } targets && (targets.Classes.Count > 0 || targets.TopK > 0 || targets.Regions.Count > 0))
                GrpcErrors.InvalidArgument("a deep dream of channels has the channels as its targets: leave targets unset");
            QuotaPolicy.Check(limits, QuotaLimits.TargetsPerJob, channels.Length, "the number of channels", "dream fewer channels per job");
            if (channels.Distinct().Count() != channels.Length) GrpcErrors.InvalidArgument("name each channel once");
            (dream.Layer, dream.TargetTensor, dream.DreamChannels) = (layer, layer, true);
            spec.Targets = new Contracts.Messages.Targets { Classes = { channels } };
        }
        spec.Gradient = dream;
        await gradientModels.PrepareAsync(spec, model, cancellationToken);
        if (channels.Length > 0 && channels.Max() is var highest && highest >= spec.LayerShape[0])
            GrpcErrors.InvalidArgument($"channel {highest} is out of range: layer '{dream.Layer}' has {spec.LayerShape[0]} channels (0 to {spec.LayerShape[0] - 1})");
    }

    /// <summary>"" → no channels; "LAYER:C" or "LAYER:C1,C2" (the layer's name may itself hold colons: the channels follow the last).</summary>
    private static (string Layer, int[] Channels) ParseDreamChannels(string text)
    {
        if (text.Length == 0) return ("", []);
        var colon = text.LastIndexOf(':');
        var channels = colon < 1 ? [] : text[(colon + 1)..].Split(',').Select(c => int.TryParse(c, out var v) && v >= 0 ? v : -1).ToArray();
        if (channels.Length == 0 || channels.Contains(-1))
            GrpcErrors.InvalidArgument($"deep dream channel must be LAYER:C or LAYER:C1,C2,... with each C a channel index, not '{text}'");
        return (text[..colon], channels);
    }

    /// <summary>
    /// A metrics job's targets are its maps' classes; each map is stored as an artifact that workers fetch by hash, like a
    /// segmentation.
    /// </summary>
    private async Task MetricsAsync(JobSpec spec, SubmitJobRequest request, CancellationToken cancellationToken)
    {
        var metrics = request.Metrics;
        if (request.Targets is { } targets && (targets.Classes.Count > 0 || targets.TopK > 0 || targets.Regions.Count > 0))
            GrpcErrors.InvalidArgument("a metrics job's targets are its maps' classes: leave targets unset");
        if (metrics.Maps.Count == 0)
            GrpcErrors.InvalidArgument("metrics needs at least one map to score (maps: target_class and the map's float32 data)");
        if (metrics.InsertionFill is null or { Kind: Fill.Types.Kind.Blur, BlurSigma: 0 })
        {
            metrics = metrics.Clone();
            metrics.InsertionFill = new Fill { Kind = Fill.Types.Kind.Blur, BlurSigma = InsertionBlurSigma(spec) };
        }
        var resolved = MethodOptions.Resolve(metrics);
        var pixels = (long)spec.ImageWidth * spec.ImageHeight;
        spec.Targets = new Contracts.Messages.Targets();
        foreach (var map in metrics.Maps)
        {
            if (map.TargetClass < 0 || map.TargetClass >= spec.ClassCount)
                GrpcErrors.InvalidArgument($"map class {map.TargetClass} is out of range: the model has {spec.ClassCount} classes (0 to {spec.ClassCount - 1})");
            if (map.Data.Length != pixels * sizeof(float))
                GrpcErrors.InvalidArgument(
                    $"the map for class {map.TargetClass} has {map.Data.Length} bytes; a {spec.ImageWidth}x{spec.ImageHeight} image's map has {pixels * sizeof(float)} (float32 per pixel)");
            spec.Targets.Classes.Add(map.TargetClass);
            var put = await artifacts.PutAsync(map.Data.ToByteArray(), "map", cancellationToken);
            resolved.Maps.Add(new Contracts.Messages.MetricMap { TargetClass = map.TargetClass, DataSha256 = put.Sha256 });
        }
        if (spec.Targets.Classes.Distinct().Count() != spec.Targets.Classes.Count)
            GrpcErrors.InvalidArgument("give one map per target class");
        spec.Metrics = resolved;
    }

    /// <summary>Blur of the model input a metrics job's insertion starts from, in model-input pixels.</summary>
    public const float InsertionBlurInputPixels = 10;

    /// <summary>
    /// <see cref="InsertionBlurInputPixels"/> in the source image's pixels, where fills apply: a fixed sigma in source
    /// pixels would blur a large photo too little to hide what the model sees once it is resized to the input.
    /// </summary>
    private static float InsertionBlurSigma(JobSpec spec)
    {
        var p = spec.Preprocessing;
        double sourcePerInputPixel = p.Resize == ModelDescriptor.ResizeStretch
            ? Math.Max((double)spec.ImageWidth / p.Width, (double)spec.ImageHeight / p.Height)
            : (double)Math.Min(spec.ImageWidth, spec.ImageHeight) / p.ResizeShorterSide;
        return (float)Math.Clamp(InsertionBlurInputPixels * sourcePerInputPixel, 0.5, 1000);
    }

    /// <summary>Region targets weigh a segmentation output [classes, H, W]; the gradient methods take them as a seed.</summary>
    private static void CheckRegions(JobSpec spec)
    {
        if (spec.MethodCase != JobSpec.MethodOneofCase.Gradient || spec.Gradient.Method == "cam")
            GrpcErrors.InvalidArgument("region targets are for the gradient methods (gradcam, saliency, integrated-gradients, ...), not CAM or sampling methods");
        if (spec.Score == Contracts.Messages.ScoreKind.Probability)
            GrpcErrors.InvalidArgument("region targets sum the model's output; ask for score OUTPUT");
        var shapes = new[] { spec.OutputShape, spec.GradientIo.SeedShape };
        if (shapes.Any(s => s.Count != 3 || s.Any(d => d < 1)) || !spec.OutputShape.SequenceEqual(spec.GradientIo.SeedShape))
            GrpcErrors.InvalidArgument(
                $"region targets need a segmentation output [N, classes, H, W]; the model's output is [N,{string.Join(',', spec.OutputShape)}]");
        var (classes, height, width) = ((int)spec.OutputShape[0], (int)spec.OutputShape[1], (int)spec.OutputShape[2]);
        foreach (var r in spec.Targets.Regions)
        {
            if (r.ClassIndex < 0 || r.ClassIndex >= classes)
                GrpcErrors.InvalidArgument($"region class {r.ClassIndex} is out of range: the output has {classes} classes");
            var whole = r.Width == 0 && r.Height == 0;
            if (!whole && (r.Width < 1 || r.Height < 1 || r.X < 0 || r.Y < 0 || r.X + r.Width > width || r.Y + r.Height > height))
                GrpcErrors.InvalidArgument(
                    $"region ({r.X},{r.Y}) {r.Width}x{r.Height} does not lie inside the {width}x{height} output map");
        }
    }

    /// <summary>Targets the job explains: each is one map per scale at image resolution.</summary>
    private static long TargetCount(Targets targets) =>
        targets.Regions.Count > 0 ? targets.Regions.Count : targets.Classes.Count > 0 ? targets.Classes.Count : targets.TopK;

    private static void CheckQuota(JobSpec spec, QuotaLimits limits)
    {
        long evaluations;
        try
        {
            var method = MethodCatalog.For(spec);
            // A dream is one work item per target, but each runs its every ascent step through the model.
            evaluations = method is Lantern.Methods.Gradients.DeepDreamMethod dream ? dream.PerturbationCount * dream.Steps : method.PerturbationCount;
        }
        catch (ArgumentException e)
        {
            GrpcErrors.InvalidArgument(e.Message);
            return;
        }
        QuotaPolicy.Check(limits, QuotaLimits.EvaluationsPerJob, evaluations, "the model evaluations this job needs",
            "ask for fewer samples, or a larger stride and fewer window sizes");
    }

    /// <summary>Feature-based methods share one segmentation per job: computed here once, stored, fetched by hash.</summary>
    private async Task SegmentAsync(JobSpec spec, Contracts.Api.Segmentation parameters, CancellationToken cancellationToken)
    {
        // A segmentation is a function of the image and its parameters: a later job on the same image (every LIME job
        // a user repeats, and every job that result reuse answers) finds it instead of decoding and segmenting again.
        var key = $"segmentation/v{SegmenterVersion}/" + ContentHash.Sha256(System.Text.Encoding.UTF8.GetBytes(
            $"{spec.ImageSha256}\n{Google.Protobuf.JsonFormatter.Default.Format(parameters)}"));
        if (_segmentations.TryGetValue(key, out var known) || (known = await RecallAsync(key, cancellationToken)) is not null)
        {
            _segmentations[key] = known;
            spec.SegmentationSha256 = known.Sha256;
            spec.FeatureCount = known.FeatureCount;
            return;
        }
        var image = await catalog.ImageAsync(spec.ImageSha256, cancellationToken);
        Explainers.Segmentation.Segmentation segmentation;
        try
        {
            segmentation = Segmenter.Segment(image, MethodOptions.ToExplainers(parameters));
        }
        catch (ArgumentException e)
        {
            GrpcErrors.InvalidArgument(e.Message);
            return;
        }
        if (segmentation.FeatureCount < 2)
            GrpcErrors.InvalidArgument(
                $"the {parameters.Method} segmentation produced {segmentation.FeatureCount} feature; an explanation needs at least 2 " +
                "(ask for more segments, or a smaller scale for felzenszwalb)");
        spec.SegmentationSha256 = (await artifacts.PutAsync(segmentation.ToBytes(), "segmentation", cancellationToken)).Sha256;
        spec.FeatureCount = segmentation.FeatureCount;
        var stored = new StoredSegmentation(spec.SegmentationSha256, spec.FeatureCount);
        _segmentations[key] = stored;
        if (memo is not null) await memo.PutAsync(key, System.Text.Json.JsonSerializer.Serialize(stored), cancellationToken);
    }

    private async Task<StoredSegmentation?> RecallAsync(string key, CancellationToken cancellationToken)
    {
        if (memo is null || await memo.GetAsync(key, cancellationToken) is not { } json) return null;
        try
        {
            var stored = System.Text.Json.JsonSerializer.Deserialize<StoredSegmentation>(json);
            // The artifact is what workers fetch: a memo entry whose bytes are gone is no answer.
            return stored is not null && await artifacts.ExistsAsync(stored.Sha256, cancellationToken) ? stored : null;
        }
        catch (System.Text.Json.JsonException)
        {
            return null; // unreadable: segment again
        }
    }

    /// <summary>A stored segmentation: its artifact and how many features it has.</summary>
    private sealed record StoredSegmentation(string Sha256, int FeatureCount);

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
        resolved.Fill = MethodOptions.ResolveFill(resolved.Fill, Fill.Types.Kind.Zero, allowFeatureMean: false);
        // Written out explicitly: in a persisted spec an empty border means the placement jobs had before the field
        // existed ("inside"), so a journal written then replays the same windows.
        resolved.Border = resolved.Border switch
        {
            "" or OcclusionBorders.Captum => OcclusionBorders.Captum,
            OcclusionBorders.Inside => OcclusionBorders.Inside,
            var other => GrpcErrors.InvalidArgument<string>(
                $"border '{other}' is not one of: {OcclusionBorders.Captum} (clipped last window, the default), {OcclusionBorders.Inside} (full windows only)"),
        };
        if (resolved.CoarseToFine && resolved.Windows.Count < 2)
            GrpcErrors.InvalidArgument("coarse_to_fine refines from a coarser scale to finer ones; give at least 2 windows");
        if (!resolved.CoarseToFine && resolved.HasRefineThreshold)
            GrpcErrors.InvalidArgument("refine_threshold applies only with coarse_to_fine; set coarse_to_fine or leave the threshold out");
        if (resolved.CoarseToFine)
        {
            if (!resolved.HasRefineThreshold) resolved.RefineThreshold = OcclusionMethod.DefaultRefineThreshold;
            if (!(resolved.RefineThreshold >= 0 && resolved.RefineThreshold < 1))
                GrpcErrors.InvalidArgument(
                    $"refine_threshold is a fraction of the coarser map's maximum, in [0, 1) (0 refines everything); got {resolved.RefineThreshold}");
        }
        return resolved;
    }

    private static Targets ResolveTargets(Targets? requested, int classCount)
    {
        var targets = requested?.Clone() ?? new Targets();
        if (targets.Regions.Count > 0 && (targets.Classes.Count > 0 || targets.TopK > 0))
            GrpcErrors.InvalidArgument("give either regions or classes/top_k as targets, not both");
        if (targets.Regions.Count > 0) return targets;
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

    /// <summary>Largest model input side: 3 × 8192² float32 is 805 MB per image, already more than any batch should hold.</summary>
    public const int MaxInputSide = 8192;

    /// <summary>Defaults come from <see cref="ModelDescriptor.Default"/> and from what the ONNX input declares.</summary>
    public static Preprocessing ResolvePreprocessing(Preprocessing? requested, OnnxModelInfo model)
    {
        var defaults = ModelDescriptor.Default;
        var p = requested?.Clone() ?? new Preprocessing();
        if (p.Width == 0) p.Width = model.InputWidth;
        if (p.Height == 0) p.Height = model.InputHeight;
        if (p.Width <= 0 || p.Height <= 0)
            GrpcErrors.InvalidArgument("the model's input size is symbolic; give preprocessing width and height");
        // Checked before any size arithmetic: a free-size model asked for 100000x100000 overflowed an int further on.
        if (p.Width > MaxInputSide || p.Height > MaxInputSide)
            GrpcErrors.InvalidArgument(
                $"preprocessing size {p.Width}x{p.Height} is too large: the model input may be at most {MaxInputSide}x{MaxInputSide}");
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
        if (p.Mean.Any(m => !float.IsFinite(m)) || !float.IsFinite(p.Scale))
            GrpcErrors.InvalidArgument($"mean and scale must be finite numbers, got mean [{string.Join(", ", p.Mean)}] and scale {p.Scale}");
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
