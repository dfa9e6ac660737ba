using Lantern.Contracts.Mapping;
using Lantern.Contracts.Messages;
using Lantern.Explainers.Imaging;
using Lantern.Explainers.Occlusion;

namespace Lantern.Worker.Inference;

/// <summary>What a worker derives once per job from its spec and image: the perturber that rebuilds any input by index.</summary>
public sealed class PreparedJob(WorkSpec work, OcclusionPerturber perturber)
{
    public WorkSpec Work { get; } = work;
    public OcclusionPerturber Perturber { get; } = perturber;
    public int[] Targets { get; } = [.. work.Targets];
    public bool AppliesSoftmax { get; } = work.Spec.AppliesSoftmax();

    public static PreparedJob Create(WorkSpec work, RgbImage image)
    {
        var spec = work.Spec;
        var preprocessor = new ImagePreprocessor(image.Width, image.Height, spec.Preprocessing.ToExplainers());
        var plan = OcclusionPlan.Create(image.Width, image.Height, spec.Occlusion.Windows.ToExplainers());
        return new PreparedJob(work, new OcclusionPerturber(image, preprocessor, plan, spec.Occlusion.Fill.ToExplainers()));
    }
}
