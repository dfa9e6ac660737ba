using Lantern.Contracts.Messages;
using Lantern.Explainers;
using Lantern.Explainers.Imaging;
using Lantern.Methods;
using Lantern.Methods.Gradients;

namespace Lantern.Worker.Inference;

using Segmentation = Lantern.Explainers.Segmentation.Segmentation;

/// <summary>
/// What a worker derives once per job from its spec and image: the unperturbed input and a perturber (none for gradient
/// methods, which the gradient path prepares with their session; see <see cref="GradientJobs"/>). Nothing here depends on
/// the job's targets, which the baseline resolves: the baseline and the items share one.
/// </summary>
public sealed class PreparedJob(JobSpec spec, RgbImage image, ImagePreprocessor preprocessor, float[] baseTensor, IPerturber? perturber)
{
    public RgbImage Image { get; } = image;
    public ImagePreprocessor Preprocessor { get; } = preprocessor;
    public float[] BaseTensor { get; } = baseTensor;
    public IPerturber? Perturber { get; } = perturber;
    public bool AppliesSoftmax { get; } = spec.AppliesSoftmax();

    public static PreparedJob Create(JobSpec spec, RgbImage image, Segmentation? segmentation = null, IReadOnlyList<float[]>? metricMaps = null)
    {
        var preprocessor = new ImagePreprocessor(image.Width, image.Height, spec.Preprocessing.ToExplainers());
        var baseTensor = new float[preprocessor.TensorLength];
        preprocessor.Write(image.Pixels, baseTensor);
        var method = MethodCatalog.For(spec, segmentation, metricMaps);
        var perturber = method is IGradientMethod ? null : method.CreatePerturber(image, preprocessor);
        return new PreparedJob(spec, image, preprocessor, baseTensor, perturber);
    }
}
