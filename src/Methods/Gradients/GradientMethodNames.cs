namespace Lantern.Methods.Gradients;

public enum GradientMethodKind
{
    GradCam, GradCamPlusPlus, Cam, ScoreCam, Activations, PooledActivations,
    Saliency, GradientXInput, IntegratedGradients, SmoothGrad, GuidedBackprop,
    DeepDream,
}

/// <summary>The names users type (CLI, gRPC) for the gradient and CAM methods.</summary>
public static class GradientMethodNames
{
    private static readonly Dictionary<string, GradientMethodKind> Kinds = new(StringComparer.Ordinal)
    {
        ["gradcam"] = GradientMethodKind.GradCam,
        ["gradcam++"] = GradientMethodKind.GradCamPlusPlus,
        ["cam"] = GradientMethodKind.Cam,
        ["scorecam"] = GradientMethodKind.ScoreCam,
        ["activations"] = GradientMethodKind.Activations,
        ["pooled-activations"] = GradientMethodKind.PooledActivations,
        ["saliency"] = GradientMethodKind.Saliency,
        ["gradient-x-input"] = GradientMethodKind.GradientXInput,
        ["integrated-gradients"] = GradientMethodKind.IntegratedGradients,
        ["smoothgrad"] = GradientMethodKind.SmoothGrad,
        ["guided-backprop"] = GradientMethodKind.GuidedBackprop,
        [DeepDreamMethod.MethodName] = GradientMethodKind.DeepDream,
    };

    /// <summary>
    /// The methods a request's GradientOptions may name: all but deep dream, whose options are its own
    /// (SubmitJobRequest.deep_dream, which the gateway turns into a gradient spec).
    /// </summary>
    public static IReadOnlyCollection<string> All => [.. Kinds.Keys.Where(name => name != DeepDreamMethod.MethodName)];

    /// <summary>The methods SmoothGrad can average.</summary>
    public static readonly string[] Smoothable = ["saliency", "gradient-x-input", "integrated-gradients", "guided-backprop"];

    public static bool TryParse(string name, out GradientMethodKind kind) => Kinds.TryGetValue(name, out kind);

    public static GradientMethodKind Parse(string name) => TryParse(name, out var kind)
        ? kind
        : throw new ArgumentException($"unknown gradient method '{name}'; use one of {string.Join(", ", All)}");

    public static string NameOf(GradientMethodKind kind) => Kinds.First(pair => pair.Value == kind).Key;

    /// <summary>Methods that explain through a feature layer (and take --layer).</summary>
    public static bool UsesLayer(GradientMethodKind kind) =>
        kind is GradientMethodKind.GradCam or GradientMethodKind.GradCamPlusPlus or GradientMethodKind.Cam
            or GradientMethodKind.ScoreCam or GradientMethodKind.Activations or GradientMethodKind.PooledActivations;
}
