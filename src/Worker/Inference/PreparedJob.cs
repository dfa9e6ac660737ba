using Lantern.Contracts.Messages;
using Lantern.Explainers;
using Lantern.Explainers.Imaging;
using Lantern.Methods;

namespace Lantern.Worker.Inference;

using Segmentation = Lantern.Explainers.Segmentation.Segmentation;

/// <summary>What a worker derives once per job from its spec and image: the unperturbed input and a perturber.</summary>
public sealed class PreparedJob(WorkSpec work, float[] baseTensor, IPerturber perturber)
{
    public WorkSpec Work { get; } = work;
    public float[] BaseTensor { get; } = baseTensor;
    public IPerturber Perturber { get; } = perturber;
    public int[] Targets { get; } = [.. work.Targets];
    public bool AppliesSoftmax { get; } = work.Spec.AppliesSoftmax();

    public static PreparedJob Create(WorkSpec work, RgbImage image, Segmentation? segmentation = null)
    {
        var spec = work.Spec;
        var preprocessor = new ImagePreprocessor(image.Width, image.Height, spec.Preprocessing.ToExplainers());
        var baseTensor = new float[preprocessor.TensorLength];
        preprocessor.Write(image.Pixels, baseTensor);
        return new PreparedJob(work, baseTensor, MethodCatalog.For(spec, segmentation).CreatePerturber(image, preprocessor));
    }
}
