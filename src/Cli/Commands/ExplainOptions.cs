using Lantern.Methods.Gradients;
using System.CommandLine;
using System.Globalization;
using Lantern.Cli.Client;
using Lantern.Contracts.Api;
using Lantern.Models;

namespace Lantern.Cli.Commands;

/// <summary>The options of <c>lantern explain</c> and how they become an API request.</summary>
public sealed class ExplainOptions
{
    public Argument<string?> Image { get; } = new("image") { Description = "Image file to explain (JPEG, PNG, BMP, GIF, WebP); or --dataset", Arity = ArgumentArity.ZeroOrOne };
    public Option<int?> Top { get; } = new("--top") { Description = "--dataset: images in each max-activating-<class>.png and min-activating-<class>.png picture (default 8, at most 64)" };
    public Option<string?> Channel { get; } = new("--channel") { Description = "max-activating: rank by this layer channel's mean activation instead of --classes, as LAYER:C (see `lantern inspect`); deep-dream: dream these channels of a layer, LAYER:C or LAYER:C1,C2,..." };
    public Option<int?> Octaves { get; } = new("--octaves") { Description = "deep-dream: coarse-to-fine levels, 1 to 8 (default 3)" };
    public Option<int?> Iterations { get; } = new("--iterations") { Description = "deep-dream: gradient-ascent steps per octave (default 20)" };
    public Option<string?> DreamStart { get; } = new("--dream-start") { Description = "deep-dream: noise (seeded noise around mid-grey, default, as MATLAB) or image (the given image)" };
    public Option<float?> Perplexity { get; } = new("--perplexity") { Description = "tsne: the t-SNE perplexity, below the number of images (default 30, or a third of the images when fewer)" };
    public Option<string?> Dataset { get; } = new("--dataset") { Description = "Explain every image of this dataset (name or name:version; see `lantern datasets`) in one job: OUT/<image>/ per image, OUT/index.csv" };
    public Option<string> Model { get; } = new("--model") { Required = true, Description = "ONNX model file (a JSON descriptor beside it, name.json, supplies preprocessing and labels), or a registered model name:version (its registered preprocessing and labels apply)" };
    public Option<string> Method { get; } = new("--method") { DefaultValueFactory = _ => "occlusion", Description = "occlusion, lime, kernelshap, rise; gradcam, gradcam++, cam, scorecam, activations; saliency, gradient-x-input, integrated-gradients, smoothgrad, guided-backprop; deep-dream (an image that maximises --classes or --channel, written as dream-<target>.png); with --dataset also max-activating (the images ranked by --classes' scores, each with its Grad-CAM map) and tsne (the images laid out by their pooled activations of --layer)" };
    public Option<string?> Layer { get; } = new("--layer") { Description = "gradcam, gradcam++, cam, scorecam, activations: the feature layer (see `lantern inspect`; default: the last with spatial size > 1)" };
    public Option<int?> Steps { get; } = new("--steps") { Description = "integrated-gradients: points on the path (default 32)" };
    public Option<string?> Baseline { get; } = new("--baseline") { Description = "integrated-gradients: zero (the zero input tensor, default) or black (a black image)" };
    public Option<string?> Integration { get; } = new("--integration") { Description = "integrated-gradients: gausslegendre (default), riemann_left, riemann_right, riemann_middle or riemann_trapezoid" };
    public Option<string?> SmoothOver { get; } = new("--smooth-over") { Description = "smoothgrad: saliency (default), gradient-x-input, integrated-gradients or guided-backprop" };
    public Option<int?> SmoothSamples { get; } = new("--smooth-samples") { Description = "smoothgrad: noisy copies averaged (default 25)" };
    public Option<float?> SmoothSigma { get; } = new("--smooth-sigma") { Description = "smoothgrad: noise std as a fraction of the input's value range (default 0.15)" };
    public Option<string[]> Regions { get; } = new("--region") { Description = "Segmentation models, gradient methods: explain CLASS summed over the whole output map, or CLASS:X,Y,WxH over a rectangle of it (output pixels); repeatable" };
    public Option<string?> TargetTensor { get; } = new("--target-tensor") { Description = "gradient methods: the tensor whose values are the scores (default: the output, or the input of a final Softmax)" };
    public Option<string?> Twin { get; } = new("--twin") { Description = "gradient methods on a quantized model: its float32 twin (e.g. the fp32 model it was quantized from), differentiated in its place" };
    public Option<int?> TopChannels { get; } = new("--top-channels") { Description = "activations: channel maps written, highest mean first (default 8)" };
    public Option<int?> Samples { get; } = new("--samples") { Description = "lime, kernelshap, rise: model evaluations to sample (default 1000; rise 2000)" };
    public Option<ulong> Seed { get; } = new("--seed") { DefaultValueFactory = _ => 0UL, Description = "Seed of the sampling methods; the same seed gives bit-identical maps" };
    public Option<string> SegmentationMethod { get; } = new("--segmentation") { DefaultValueFactory = _ => "slic", Description = "lime, kernelshap: slic, felzenszwalb or grid" };
    public Option<int> Segments { get; } = new("--segments") { DefaultValueFactory = _ => 50, Description = "slic, grid: about this many superpixels" };
    public Option<float?> FelzenszwalbScale { get; } = new("--felzenszwalb-scale") { Description = "felzenszwalb: scale (default 100; larger, fewer segments)" };
    public Option<string> Hide { get; } = new("--hide") { DefaultValueFactory = _ => "feature-mean", Description = "lime, kernelshap: colour of a hidden superpixel: feature-mean, mean, zero or R,G,B" };
    public Option<int?> NumFeatures { get; } = new("--num-features") { Description = "lime: features in the local model (default 10)" };
    public Option<string?> FeatureSelection { get; } = new("--feature-selection") { Description = "lime: auto, forward_selection, highest_weights or none" };
    public Option<int?> MaskFeatures { get; } = new("--mask-features") { Description = "lime: features in the positive-only mask (default 5)" };
    public Option<bool> StopWhenStable { get; } = new("--stop-when-stable") { Description = "lime: stop sampling once the top features' ranking holds (--samples is then the most drawn)" };
    public Option<int?> CheckEvery { get; } = new("--check-every") { Description = "lime --stop-when-stable: samples between checks (default 100)" };
    public Option<int?> StableChecks { get; } = new("--stable-checks") { Description = "lime --stop-when-stable: checks in a row the ranking must hold (default 3)" };
    public Option<int?> Cells { get; } = new("--cells") { Description = "rise: mask cells per side (default 7)" };
    public Option<float?> Density { get; } = new("--density") { Description = "rise: probability a cell is kept (default 0.5)" };
    public Option<string?> Window { get; } = new("--window") { Description = "Occlusion window in image pixels: 16 or HxW (default 16)" };
    public Option<string?> Stride { get; } = new("--stride") { Description = "Window stride: 8 or HxW (default: half the window)" };
    public Option<string?> Windows { get; } = new("--windows") { Description = "Multi-scale occlusion: window sizes, e.g. 16,32,48,64" };
    public Option<string> Border { get; } = new("--border") { DefaultValueFactory = _ => "captum", Description = "Occlusion windows at the image's edge when the stride does not divide (image - window): captum (the last window clipped at the edge, as Captum) or inside (full windows only, as MATLAB with MaskClipping off)" };
    public Option<bool> CoarseToFine { get; } = new("--coarse-to-fine") { Description = "Multi-scale occlusion: evaluate each finer scale only where the coarser map is significant (fewer evaluations)" };
    public Option<float?> RefineThreshold { get; } = new("--refine-threshold") { Description = "--coarse-to-fine: refine where the coarser map reaches this fraction of its max, in [0,1) (default 0.25; 0 = exact)" };
    public Option<string> Fill { get; } = new("--fill") { DefaultValueFactory = _ => "zero", Description = "zero, mean, blur, or a constant R,G,B (0-255)" };
    public Option<float> BlurSigma { get; } = new("--blur-sigma") { DefaultValueFactory = _ => 10f, Description = "Gaussian sigma in source pixels for --fill blur" };
    public Option<int> TopK { get; } = new("--top-k") { DefaultValueFactory = _ => 1, Description = "Explain the model's k highest-scoring classes" };
    public Option<string?> Classes { get; } = new("--classes") { Description = "Explain these class indices instead, e.g. 207,208" };
    public Option<string> Score { get; } = new("--score") { DefaultValueFactory = _ => "output", Description = "output (as the model returns it) or probability (softmax of logits)" };
    public Option<string?> Labels { get; } = new("--labels") { Description = "Labels file, line k+1 = class k (default: from the descriptor)" };
    public Option<string?> InputSize { get; } = new("--input-size") { Description = "Model input HxW, when the ONNX file leaves it open" };
    public Option<string?> Resize { get; } = new("--resize") { Description = "shorter_side_crop or stretch" };
    public Option<string?> ChannelOrder { get; } = new("--channel-order") { Description = "rgb or bgr" };
    public Option<float?> Scale { get; } = new("--scale") { Description = "Multiplier of 0-255 pixel values before the mean" };
    public Option<string?> Mean { get; } = new("--mean") { Description = "Per-channel mean, model channel order: a,b,c" };
    public Option<string?> Std { get; } = new("--std") { Description = "Per-channel std, model channel order: a,b,c" };
    public Option<string?> ModelOutput { get; } = new("--model-output") { Description = "logits or probabilities" };
    public Option<string> Out { get; } = new("--out") { DefaultValueFactory = _ => "lantern-out", Description = "Directory for summary.json, map-*.npy, overlay-*.png" };
    public Option<string?> Name { get; } = new("--name") { Description = "Job name shown in listings" };
    public Option<string?> Metrics { get; } = new("--metrics") { Description = "Quality metrics of each class map, computed on the workers after the job: deletion, insertion (Petsiuk et al. 2018; AUCs in summary.json, curves in metrics-<class>.png); randomization (Adebayo et al. 2018: the job again on models whose layers are randomised from the output, Spearman correlation with the map in summary.json, randomization-<class>.png)" };
    public Option<int?> RandomizationSteps { get; } = new("--randomization-steps") { Description = "--metrics randomization: models in the cascade, from the top layer to all layers (default 5)" };
    public Option<int?> MetricSteps { get; } = new("--metric-steps") { Description = "--metrics: points on each curve besides the unperturbed one (default 100)" };
    public Option<bool> NoCache { get; } = new("--no-cache") { Description = "Compute afresh even when a finished job with the same inputs could answer at once" };

    public void AddTo(Command command)
    {
        command.Arguments.Add(Image);
        foreach (var option in new Option[]
                 {
                     Model, Dataset, Top, Perplexity, Channel, Octaves, Iterations, DreamStart, Method, Window, Stride, Windows, Border, CoarseToFine, RefineThreshold, Fill, BlurSigma, Samples, Seed, SegmentationMethod, Segments,
                     FelzenszwalbScale, Hide, NumFeatures, FeatureSelection, MaskFeatures, StopWhenStable, CheckEvery, StableChecks, Cells, Density, TopK, Classes, Score,
                     Labels, InputSize, Resize, ChannelOrder, Scale, Mean, Std, ModelOutput, Out, Name, NoCache, Metrics, MetricSteps,
                     RandomizationSteps, Layer, Steps, Baseline, Integration, SmoothOver, SmoothSamples, SmoothSigma, TopChannels, Twin, Regions, TargetTensor,
                 })
            command.Options.Add(option);
    }

    /// <summary>"LAYER:C" (the layer's name may itself hold colons: the channel is after the last one).</summary>
    private static (string Layer, int Channel) ParseChannel(string value)
    {
        var colon = value.LastIndexOf(':');
        if (colon < 1 || !int.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var channel))
            throw new ArgumentException($"--channel takes LAYER:C, e.g. conv10_2:207, not '{value}'");
        return (value[..colon], channel);
    }

    /// <summary>Reads the parsed command line and the model's descriptor into a request; throws ArgumentException on bad values.</summary>
    public ExplainRequest ToRequest(ParseResult parsed)
    {
        CheckRanges(parsed);
        var modelPath = parsed.GetValue(Model)!;
        var dataset = parsed.GetValue(Dataset);
        var imagePath = parsed.GetValue(Image) ?? "";
        var hasImage = imagePath.Length > 0;
        var dreamsFromNoise = parsed.GetValue(Method) == DeepDreamMethod.MethodName && parsed.GetValue(DreamStart) is null or "noise";
        if (dataset is null && !hasImage && !dreamsFromNoise || dataset is not null && hasImage)
            throw new ArgumentException(dataset is null
                ? parsed.GetValue(Method) == DeepDreamMethod.MethodName
                    ? "--dream-start image starts the dream from an image: give the image file"
                    : "give an image file to explain, or --dataset NAME to explain every image of a dataset"
                : "give either an image file or --dataset, not both");
        if (dataset is not null && parsed.GetValue(Metrics) is not null)
            throw new ArgumentException("--metrics runs on one image's maps; explain the images one by one to score them");
        var registered = RegisteredModel(modelPath, parsed);
        foreach (var path in (registered is null ? new[] { modelPath, imagePath } : [imagePath]).Where(p => p.Length > 0))
            if (!File.Exists(path)) throw new ArgumentException($"no such file: {path}");

        var descriptor = registered is null ? ModelDescriptorFile.LoadBeside(modelPath) ?? ModelDescriptor.Default : null;
        var submit = new SubmitJobRequest
        {
            // A registered model brings its own preprocessing (and labels), which the gateway applies when these are absent.
            Preprocessing = descriptor is null ? null : ToPreprocessing(descriptor, parsed),
            Model = registered ?? "",
            Targets = ToTargets(parsed),
            Score = parsed.GetValue(Score) switch
            {
                "output" => ScoreKind.Output,
                "probability" => ScoreKind.Probability,
                var other => throw new ArgumentException($"--score '{other}' is not one of: output, probability"),
            },
            Name = parsed.GetValue(Name) ?? (dataset ?? (hasImage ? Path.GetFileName(imagePath) : "deep dream from noise")),
            Dataset = dataset ?? "",
            Seed = parsed.GetValue(Seed),
            NoCache = parsed.GetValue(NoCache),
        };
        int? rankingChannel = null;
        switch (parsed.GetValue(Method))
        {
            case "occlusion":
                submit.Occlusion = ToOcclusion(parsed);
                break;
            case "lime":
                submit.Lime = new LimeOptions
                {
                    Samples = parsed.GetValue(Samples) ?? 1000, Segmentation = ToSegmentation(parsed), Hide = ToHide(parsed),
                    NumFeatures = parsed.GetValue(NumFeatures) ?? 0, FeatureSelection = parsed.GetValue(FeatureSelection) ?? "",
                    MaskFeatures = parsed.GetValue(MaskFeatures) ?? 0, StopWhenStable = parsed.GetValue(StopWhenStable),
                    CheckEvery = parsed.GetValue(CheckEvery) ?? 0, StableChecks = parsed.GetValue(StableChecks) ?? 0,
                };
                break;
            case "kernelshap":
                submit.KernelShap = new KernelShapOptions
                {
                    Samples = parsed.GetValue(Samples) ?? 1000, Segmentation = ToSegmentation(parsed), Hide = ToHide(parsed),
                };
                break;
            case "rise":
                submit.Rise = new RiseOptions
                {
                    Samples = parsed.GetValue(Samples) ?? 2000, Cells = parsed.GetValue(Cells) ?? 0, Density = parsed.GetValue(Density) ?? 0,
                };
                break;
            case DeepDreamMethod.MethodName:
                submit.DeepDream = new Contracts.Api.DeepDreamOptions
                {
                    Octaves = parsed.GetValue(Octaves) ?? 0, Iterations = parsed.GetValue(Iterations) ?? 0,
                    Start = parsed.GetValue(DreamStart) ?? "", Channel = parsed.GetValue(Channel) ?? "",
                };
                if (submit.DeepDream.Channel.Length > 0)
                {
                    if (parsed.GetValue(Classes) is not null) throw new ArgumentException("--method deep-dream dreams --classes or --channel, not both");
                    submit.Targets = null; // the channels are the targets
                }
                break;
            case var name when GradientMethodNames.TryParse(name!, out _):
                submit.Gradient = new GradientOptions
                {
                    Method = name, Layer = parsed.GetValue(Layer) ?? "", Steps = parsed.GetValue(Steps) ?? 0,
                    Baseline = parsed.GetValue(Baseline) ?? "", Integration = parsed.GetValue(Integration) ?? "",
                    SmoothOver = parsed.GetValue(SmoothOver) ?? "", SmoothSamples = parsed.GetValue(SmoothSamples) ?? 0,
                    SmoothSigma = parsed.GetValue(SmoothSigma) ?? 0, TopChannels = parsed.GetValue(TopChannels) ?? 0,
                    TargetTensor = parsed.GetValue(TargetTensor) ?? "",
                };
                break;
            case "tsne":
                // Each image's pooled activations of the layer on the workers; the t-SNE of them is the dataset job's result.
                if (dataset is null) throw new ArgumentException("--method tsne lays out the images of a dataset: give --dataset NAME");
                submit.Gradient = new GradientOptions { Method = "pooled-activations", Layer = parsed.GetValue(Layer) ?? "" };
                break;
            case "max-activating" when parsed.GetValue(Channel) is { } channel:
                // Images ranked by one channel's mean activation of a layer: the pooled activations are all it needs.
                if (dataset is null) throw new ArgumentException("--method max-activating ranks the images of a dataset: give --dataset NAME");
                var (layer, index) = ParseChannel(channel);
                rankingChannel = index;
                submit.Gradient = new GradientOptions { Method = "pooled-activations", Layer = layer };
                break;
            case "max-activating":
                // Images ranked by the classes' scores; each also gets its Grad-CAM map of them, drawn in the pictures.
                if (dataset is null) throw new ArgumentException("--method max-activating ranks the images of a dataset: give --dataset NAME");
                if (submit.Targets.Classes.Count == 0)
                    throw new ArgumentException("--method max-activating ranks the images by classes' scores or a layer channel's activation: give --classes, e.g. --classes 207, or --channel LAYER:C");
                submit.Gradient = new GradientOptions { Method = "gradcam", Layer = parsed.GetValue(Layer) ?? "", TargetTensor = parsed.GetValue(TargetTensor) ?? "" };
                break;
            case var other:
                throw new ArgumentException(
                    $"--method '{other}' is not one of: occlusion, lime, kernelshap, rise, {string.Join(", ", GradientMethodNames.All)}, deep-dream, max-activating and tsne (with --dataset)");
        }
        var labels = parsed.GetValue(Labels) is { } labelsPath
            ? File.ReadAllLines(labelsPath)
            : descriptor is null ? null : ModelDescriptorFile.LoadLabels(modelPath, descriptor);
        if (labels is not null) submit.Labels.Add(labels);
        var twin = parsed.GetValue(Twin);
        if (twin is not null && !File.Exists(twin)) throw new ArgumentException($"no such file: {twin}");
        if (twin is not null && submit.MethodCase != SubmitJobRequest.MethodOneofCase.Gradient)
            throw new ArgumentException("--twin applies to the gradient and CAM methods only");
        var metrics = parsed.GetValue(Metrics) is { } names ? MetricsFollowUp.ParseNames(names) : [];
        if (metrics.Count == 0 && parsed.GetValue(MetricSteps) is not null) throw new ArgumentException("--metric-steps applies with --metrics");
        var randomizationSteps = parsed.GetValue(RandomizationSteps);
        if (randomizationSteps is not null && !metrics.Contains(RandomizationFollowUp.Name))
            throw new ArgumentException("--randomization-steps applies with --metrics randomization");
        if (randomizationSteps is < 1 or > 100) throw new ArgumentException($"--randomization-steps must be between 1 and 100, got {randomizationSteps}");
        if (metrics.Contains(RandomizationFollowUp.Name) && (registered is not null || twin is not null))
            throw new ArgumentException("--metrics randomization re-draws the weights of the model file: give the .onnx file (not a registered name, and not with --twin)");
        if (parsed.GetValue(Perplexity) is { } perplexity && (parsed.GetValue(Method) != "tsne" || !(perplexity >= 1)))
            throw new ArgumentException(parsed.GetValue(Method) != "tsne" ? "--perplexity applies with --method tsne" : $"--perplexity must be at least 1, got {perplexity}");
        if (parsed.GetValue(Channel) is not null && parsed.GetValue(Method) is not ("max-activating" or DeepDreamMethod.MethodName))
            throw new ArgumentException("--channel applies with --method max-activating or deep-dream");
        if (parsed.GetValue(Method) != DeepDreamMethod.MethodName
            && new Option[] { Octaves, Iterations, DreamStart }.FirstOrDefault(o => parsed.GetResult(o) is { Implicit: false }) is { } dreamOnly)
            throw new ArgumentException($"{dreamOnly.Name} applies with --method deep-dream");
        if (parsed.GetValue(Top) is { } top && (dataset is null || top is < 1 or > 64))
            throw new ArgumentException(dataset is null ? "--top applies with --dataset" : $"--top must be between 1 and 64, got {top}");
        return new ExplainRequest(imagePath, registered is null ? modelPath : null, submit, parsed.GetValue(Out)!, twin, metrics,
            parsed.GetValue(MetricSteps) ?? 0, parsed.GetValue(Top) ?? 0, parsed.GetValue(Perplexity) ?? 0, rankingChannel,
            randomizationSteps ?? RandomizationFollowUp.DefaultSteps);
    }

    /// <summary>
    /// "name:version" when --model names no file but a registered model; the preprocessing options, which the registry's
    /// preprocessing replaces as a whole, are refused with it rather than silently dropped.
    /// </summary>
    private string? RegisteredModel(string model, ParseResult parsed)
    {
        if (File.Exists(model) || !System.Text.RegularExpressions.Regex.IsMatch(model, "^[A-Za-z0-9._-]+:[A-Za-z0-9._-]+$")) return null;
        var preprocessing = new Option[] { InputSize, Resize, ChannelOrder, Scale, Mean, Std, ModelOutput }
            .Where(o => parsed.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToList();
        if (preprocessing.Count > 0)
            throw new ArgumentException($"{string.Join(", ", preprocessing)}: the registered model {model} brings its own " +
                                        "preprocessing; push a new version with `lantern models push --preprocessing` to change it");
        return model;
    }

    /// <summary>
    /// Values no job can run with, refused before anything starts (no cluster, no upload); the gateway checks them again,
    /// with everything that needs the model or the image.
    /// </summary>
    private void CheckRanges(ParseResult parsed)
    {
        void AtLeast(Option<int?> option, int least)
        {
            if (parsed.GetValue(option) is { } v && v < least) throw new ArgumentException($"{option.Name} must be at least {least}, got {v}");
        }
        AtLeast(Samples, 1);
        AtLeast(Steps, 1);
        AtLeast(SmoothSamples, 1);
        AtLeast(TopChannels, 1);
        AtLeast(NumFeatures, 1);
        AtLeast(MaskFeatures, 1);
        AtLeast(CheckEvery, 1);
        AtLeast(StableChecks, 1);
        AtLeast(Cells, 1);
        AtLeast(MetricSteps, 1);
        if (parsed.GetValue(TopK) < 1) throw new ArgumentException($"--top-k must be at least 1, got {parsed.GetValue(TopK)}");
        if (parsed.GetValue(Segments) < 2) throw new ArgumentException($"--segments must be at least 2, got {parsed.GetValue(Segments)}");
        if (parsed.GetValue(Density) is { } density && !(density > 0 && density <= 1))
            throw new ArgumentException($"--density is the probability a cell is kept, in (0, 1]; got {density}");
        if (parsed.GetValue(SmoothSigma) is { } sigma && !(sigma > 0)) throw new ArgumentException($"--smooth-sigma must be above 0, got {sigma}");
        if (!(parsed.GetValue(BlurSigma) > 0)) throw new ArgumentException($"--blur-sigma must be above 0, got {parsed.GetValue(BlurSigma)}");
        if (parsed.GetValue(RefineThreshold) is { } threshold && !(threshold >= 0 && threshold < 1))
            throw new ArgumentException($"--refine-threshold is a fraction of the coarser map's maximum, in [0, 1); got {threshold}");
        foreach (var (option, text) in new[] { (Window, parsed.GetValue(Window)), (Stride, parsed.GetValue(Stride)) }
                     .Concat((parsed.GetValue(Windows) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(w => (Windows, (string?)w))))
        {
            if (text is null) continue;
            var (h, w) = Pair(text, option.Name);
            if (h < 1 || w < 1) throw new ArgumentException($"{option.Name} must be at least 1 pixel, got {text}");
        }
    }

    private Preprocessing ToPreprocessing(ModelDescriptor descriptor, ParseResult parsed)
    {
        var p = new Preprocessing
        {
            Resize = parsed.GetValue(Resize) ?? descriptor.Resize,
            ResizeShorterSide = descriptor.ResizeShorterSide,
            ChannelOrder = parsed.GetValue(ChannelOrder) ?? descriptor.ChannelOrder,
            Layout = descriptor.Layout ?? "",
            Scale = parsed.GetValue(Scale) ?? descriptor.Scale,
            Mean = { parsed.GetValue(Mean) is { } mean ? Floats(mean, "--mean") : descriptor.Mean },
            Std = { parsed.GetValue(Std) is { } std ? Floats(std, "--std") : descriptor.Std },
            Output = parsed.GetValue(ModelOutput) ?? descriptor.Output,
        };
        var size = parsed.GetValue(InputSize) is { } text ? Pair(text, "--input-size") : descriptor.InputSize is [var h, var w] ? (h, w) : (0, 0);
        (p.Height, p.Width) = size;
        return p;
    }

    private Targets ToTargets(ParseResult parsed)
    {
        if (parsed.GetValue(Regions) is { Length: > 0 } regions)
            return new Targets { Regions = { regions.Select(ToRegion) } };
        if (parsed.GetValue(Classes) is { } classes)
            return new Targets { Classes = { classes.Split(',').Select(c => Int(c, "--classes")) } };
        return new Targets { TopK = parsed.GetValue(TopK) };
    }

    /// <summary>"CLASS" (the whole map) or "CLASS:X,Y,WxH" in output pixels.</summary>
    private static Region ToRegion(string text)
    {
        var parts = text.Split(':');
        var region = new Region { ClassIndex = Int(parts[0], "--region") };
        if (parts.Length == 1) return region;
        var corner = parts[1].Split(',');
        if (parts.Length != 2 || corner.Length != 3)
            throw new ArgumentException($"--region '{text}' is not CLASS or CLASS:X,Y,WxH, e.g. 12:40,60,32x32");
        (region.X, region.Y) = (Int(corner[0], "--region"), Int(corner[1], "--region"));
        (region.Width, region.Height) = Pair(corner[2], "--region"); // WxH: width first, as the X,Y before it
        return region;
    }

    private OcclusionOptions ToOcclusion(ParseResult parsed)
    {
        var occlusion = new OcclusionOptions { Fill = ToFill(parsed.GetValue(Fill)!, parsed.GetValue(BlurSigma)) };
        var stride = parsed.GetValue(Stride) is { } s ? Pair(s, "--stride") : ((int, int)?)null;
        var windows = parsed.GetValue(Windows) is { } list
            ? list.Split(',').Select(w => Pair(w, "--windows"))
            : [parsed.GetValue(Window) is { } window ? Pair(window, "--window") : (16, 16)];
        foreach (var (h, w) in windows)
        {
            var (sy, sx) = stride ?? (Math.Max(1, h / 2), Math.Max(1, w / 2));
            occlusion.Windows.Add(new Window { Height = h, Width = w, StrideY = sy, StrideX = sx });
        }
        occlusion.Border = parsed.GetValue(Border) is "captum" or "inside" ? parsed.GetValue(Border)!
            : throw new ArgumentException($"--border '{parsed.GetValue(Border)}' is not one of: captum, inside");
        occlusion.CoarseToFine = parsed.GetValue(CoarseToFine);
        if (parsed.GetValue(RefineThreshold) is { } threshold)
        {
            if (!occlusion.CoarseToFine) throw new ArgumentException("--refine-threshold goes with --coarse-to-fine");
            occlusion.RefineThreshold = threshold;
        }
        return occlusion;
    }

    private Contracts.Api.Segmentation ToSegmentation(ParseResult parsed) => new()
    {
        Method = parsed.GetValue(SegmentationMethod)!, Segments = parsed.GetValue(Segments),
        Scale = parsed.GetValue(FelzenszwalbScale) ?? 0,
    };

    private Fill ToHide(ParseResult parsed) => parsed.GetValue(Hide) == "feature-mean"
        ? new Fill { Kind = Contracts.Api.Fill.Types.Kind.FeatureMean }
        : ToFill(parsed.GetValue(Hide)!, 0);

    private static Fill ToFill(string fill, float blurSigma) => fill switch
    {
        "zero" => new Fill { Kind = Contracts.Api.Fill.Types.Kind.Zero },
        "mean" => new Fill { Kind = Contracts.Api.Fill.Types.Kind.Mean },
        "blur" => new Fill { Kind = Contracts.Api.Fill.Types.Kind.Blur, BlurSigma = blurSigma },
        _ when fill.Split(',') is [var r, var g, var b] => new Fill
        {
            Kind = Contracts.Api.Fill.Types.Kind.Constant, R = Float(r, "--fill"), G = Float(g, "--fill"), B = Float(b, "--fill"),
        },
        _ => throw new ArgumentException($"fill '{fill}' is not one of: zero, mean, blur, R,G,B"),
    };

    /// <summary>"16" → (16, 16); "16x24" → (16, 24), height first.</summary>
    private static (int, int) Pair(string text, string option)
    {
        var parts = text.ToLowerInvariant().Split('x');
        return parts switch
        {
            [var both] => (Int(both, option), Int(both, option)),
            [var h, var w] => (Int(h, option), Int(w, option)),
            _ => throw new ArgumentException($"{option} takes N or HxW, got '{text}'"),
        };
    }

    private static float[] Floats(string text, string option) => [.. text.Split(',').Select(v => Float(v, option))];

    private static int Int(string text, string option) =>
        int.TryParse(text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new ArgumentException($"{option}: '{text}' is not a whole number");

    private static float Float(string text, string option) =>
        float.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new ArgumentException($"{option}: '{text}' is not a number");
}
