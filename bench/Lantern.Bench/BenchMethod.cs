using Lantern.Contracts.Api;

namespace Lantern.Bench;

/// <summary>
/// An explanation method the benchmark measures: its name, and how it fills the method of a request. Everything else
/// in the request (preprocessing, top-1 target, seed 0) is the same for every method, so the paths differ only here.
/// </summary>
public sealed class BenchMethod
{
    public const string OcclusionName = "occlusion";
    public const string MultiScaleName = "multiscale";
    public const string LimeName = "lime";
    public const string GradCamName = "gradcam";

    /// <summary>Integrated gradients with 32 path points (issue 6's and 7's figure).</summary>
    public const string IntegratedGradientsName = "ig32";

    /// <summary>Path points of <see cref="IntegratedGradientsName"/>.</summary>
    public const int IntegratedGradientsSteps = 32;

    /// <summary>Multi-scale occlusion, coarse to fine, measured in-process (jobs run it with OcclusionOptions.coarse_to_fine).</summary>
    public const string CoarseToFineName = "multiscale-c2f";

    /// <summary>The windows of the multi-scale job, each with a stride of half its size (the CLI's default).</summary>
    public static readonly int[] MultiScaleWindows = [16, 32, 48, 64];

    /// <summary>The methods <c>--methods</c> accepts, in the order a full run measures them.</summary>
    public static readonly string[] Names = [OcclusionName, MultiScaleName, CoarseToFineName, LimeName, GradCamName, IntegratedGradientsName];

    /// <summary>The gradient methods among <see cref="Names"/> (see <see cref="IsGradient"/>).</summary>
    public static bool IsGradientName(string? name) => name is GradCamName or IntegratedGradientsName;

    private readonly Action<SubmitJobRequest> _apply;

    private BenchMethod(string name, string description, Action<SubmitJobRequest> apply, bool isGradient = false)
    {
        Name = name;
        Description = description;
        _apply = apply;
        IsGradient = isGradient;
    }

    public string Name { get; }

    /// <summary>
    /// A gradient method: each evaluation is a forward and a backward pass through the gradient model, not one forward
    /// pass, so its rows also report seconds per job and that time in forward passes at batch 1.
    /// </summary>
    public bool IsGradient { get; }

    /// <summary>The method's parameters in words, for the job line the run prints.</summary>
    public string Description { get; }

    /// <summary>
    /// The same method with a handful of evaluations, for the jobs that bring a node to its steady state before it is
    /// timed (<see cref="LocalCluster.ServeSmallJobsAsync"/>): it runs the same per-job code, in a fraction of the time.
    /// Null for coarse-to-fine, which only the in-process path measures.
    /// </summary>
    public BenchMethod? Small() => Name switch
    {
        OcclusionName => Occlusion(SmallWindow, SmallWindow),
        MultiScaleName => MultiScale(windows: [SmallWindow, 2 * SmallWindow]),
        LimeName => Lime(10),
        GradCamName => GradCam(),
        IntegratedGradientsName => IntegratedGradients(2),
        _ => null,
    };

    /// <summary>Half of the shared models' 224-pixel input: a few windows per scale.</summary>
    private const int SmallWindow = 112;

    /// <summary>Sets the request's method (the proto oneof) to this one.</summary>
    public void ApplyTo(SubmitJobRequest request) => _apply(request);

    /// <exception cref="ArgumentException">A name that is not one of <see cref="Names"/>.</exception>
    public static BenchMethod Create(string name, BenchOptions options) => name switch
    {
        OcclusionName => Occlusion(options.Window, options.Stride),
        MultiScaleName => MultiScale(),
        CoarseToFineName => MultiScale(CoarseToFineName, $", coarse to fine at threshold {options.CoarseToFineThreshold}"),
        LimeName => Lime(options.Samples),
        GradCamName => GradCam(),
        IntegratedGradientsName => IntegratedGradients(IntegratedGradientsSteps),
        _ => throw new ArgumentException($"--methods '{name}' is not one of: {string.Join(", ", Names)}"),
    };

    /// <summary>One window scale, zero fill: 16/8 on 224×224 gives 27×27 = 729 perturbations.</summary>
    public static BenchMethod Occlusion(int window, int stride) => new(OcclusionName,
        $"window {window}, stride {stride}, zero fill",
        request => request.Occlusion = new OcclusionOptions
        {
            Fill = new Fill { Kind = Fill.Types.Kind.Zero },
            Windows = { new Window { Height = window, Width = window, StrideY = stride, StrideX = stride } },
        });

    /// <summary>Multi-scale occlusion, windows 16/32/48/64 with strides 8/16/24/32, zero fill: 729+169+64+36 = 998 on 224×224.</summary>
    public static BenchMethod MultiScale(string name = MultiScaleName, string suffix = "", int[]? windows = null) => new(name,
        $"windows {string.Join('/', windows ?? MultiScaleWindows)}, stride half the window, zero fill{suffix}",
        request =>
        {
            var options = new OcclusionOptions { Fill = new Fill { Kind = Fill.Types.Kind.Zero } };
            foreach (var w in windows ?? MultiScaleWindows)
                options.Windows.Add(new Window { Height = w, Width = w, StrideY = w / 2, StrideX = w / 2 });
            request.Occlusion = options;
        });

    /// <summary>
    /// LIME on SLIC superpixels with the gateway's defaults for the rest (feature-mean hide, kernel width, feature
    /// selection). The gateway segments the image once per submission and stores the segmentation by hash.
    /// </summary>
    public static BenchMethod Lime(int samples) => new(LimeName,
        $"{samples} samples, feature-mean hide, SLIC 50 segments",
        request => request.Lime = new LimeOptions
        {
            Samples = samples,
            Segmentation = new Segmentation { Method = "slic", Segments = 50 },
        });

    /// <summary>Grad-CAM on the default layer (the last 4-D activation with spatial size above 1): one gradient evaluation.</summary>
    public static BenchMethod GradCam() => new(GradCamName,
        "default layer, one gradient evaluation",
        request => request.Gradient = new GradientOptions { Method = "gradcam" }, isGradient: true);

    /// <summary>
    /// Integrated gradients from the zero baseline, Gauss-Legendre (the defaults): <paramref name="steps"/> path points,
    /// plus the input and the baseline for the completeness check, so steps + 2 gradient evaluations.
    /// </summary>
    public static BenchMethod IntegratedGradients(int steps) => new(IntegratedGradientsName,
        $"{steps} steps, zero baseline, Gauss-Legendre, + input and baseline for the completeness check",
        request => request.Gradient = new GradientOptions { Method = "integrated-gradients", Steps = steps }, isGradient: true);
}
