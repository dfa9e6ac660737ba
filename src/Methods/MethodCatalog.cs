using Lantern.Contracts.Messages;

namespace Lantern.Methods;

/// <summary>From a job's spec to its method. The only place that knows which methods exist.</summary>
public static class MethodCatalog
{
    public static IExplanationMethod For(JobSpec spec) => spec.MethodCase switch
    {
        JobSpec.MethodOneofCase.Occlusion => new OcclusionMethod(spec.Occlusion, spec.ImageWidth, spec.ImageHeight),
        _ => throw new ArgumentException($"job method {spec.MethodCase} is not supported"),
    };

    public static bool NeedsSegmentation(JobSpec spec) => spec.SegmentationSha256.Length > 0;
}
