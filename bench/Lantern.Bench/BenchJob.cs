using Lantern.Contracts.Api;
using Lantern.Methods;
using Lantern.Contracts.Messages;
using Lantern.Gateway.Hosting;
using Lantern.Gateway.Mapping;
using Lantern.Explainers.Occlusion;
using Lantern.Models;

namespace Lantern.Bench;

/// <summary>
/// One occlusion job, the unit every path measures: a model, an image, the API request for them, and the JobSpec
/// the gateway resolves that request to (resolved here by the gateway's own mapping, so all paths run the same job).
/// </summary>
public sealed class BenchJob
{
    private BenchJob(string modelPath, byte[] model, OnnxModelInfo info, string imagePath, byte[] image,
        SubmitJobRequest submit, JobSpec spec, InMemoryArtifactStore store)
    {
        ModelPath = modelPath;
        ModelBytes = model;
        Info = info;
        ImagePath = imagePath;
        ImageBytes = image;
        Submit = submit;
        Spec = spec;
        Store = store;
    }

    public string ModelPath { get; }
    public string ModelName => Path.GetFileName(ModelPath);
    public byte[] ModelBytes { get; }
    public OnnxModelInfo Info { get; }
    public string ImagePath { get; }
    public string ImageName => Path.GetFileName(ImagePath);
    public byte[] ImageBytes { get; }

    /// <summary>The request as a client sends it, before the upload hashes are filled in; clone it per submission.</summary>
    public SubmitJobRequest Submit { get; }
    public JobSpec Spec { get; }

    /// <summary>Perturbed images the job evaluates; the cluster also evaluates the unperturbed image once.</summary>
    public long Perturbations =>
        OcclusionPlan.Create(Spec.ImageWidth, Spec.ImageHeight, Spec.Occlusion.Windows.ToExplainers()).WindowCount;

    /// <summary>Holds the model and the image, for the in-process path.</summary>
    public InMemoryArtifactStore Store { get; }

    public static async Task<BenchJob> CreateAsync(string modelPath, string imagePath, int window, int stride)
    {
        foreach (var path in new[] { modelPath, imagePath })
            if (!File.Exists(path)) throw new FileNotFoundException($"no such file: {path}", path);

        var model = await File.ReadAllBytesAsync(modelPath);
        var image = await File.ReadAllBytesAsync(imagePath);
        var submit = new SubmitJobRequest
        {
            Preprocessing = ToPreprocessing(DescriptorFor(modelPath)),
            Targets = new Targets { TopK = 1 },
            Score = ScoreKind.Output,
            Name = $"bench {Path.GetFileName(modelPath)}",
            Occlusion = new OcclusionOptions
            {
                Fill = new Fill { Kind = Fill.Types.Kind.Zero },
                Windows = { new Window { Height = window, Width = window, StrideY = stride, StrideX = stride } },
            },
        };

        var store = new InMemoryArtifactStore();
        var gateway = new GatewayOptions();
        var catalog = new ArtifactCatalog(store, gateway);
        var (modelPut, info) = await catalog.PutModelAsync(model, CancellationToken.None);
        var (imagePut, _) = await catalog.PutImageAsync(image, CancellationToken.None);
        var request = submit.Clone();
        request.ModelSha256 = modelPut.Sha256;
        request.ImageSha256 = imagePut.Sha256;
        var spec = await new JobRequestMapping(catalog, store, gateway).ToSpecAsync(request, CancellationToken.None);
        return new BenchJob(modelPath, model, info, imagePath, image, submit, spec, store);
    }

    /// <summary>
    /// The descriptor beside the model when there is one; else the preprocessing PROVENANCE.md gives for the shared
    /// models: SqueezeNet is Caffe-style (BGR 0-255 minus 104/117/123, probabilities), the others torchvision ImageNet.
    /// </summary>
    private static ModelDescriptor DescriptorFor(string modelPath)
    {
        if (ModelDescriptorFile.LoadBeside(modelPath) is { } beside) return beside;
        if (!Path.GetFileName(modelPath).StartsWith("squeezenet", StringComparison.OrdinalIgnoreCase)) return ModelDescriptor.Default;
        return ModelDescriptor.Default with
        {
            ChannelOrder = ModelDescriptor.Bgr, Scale = 1, Mean = [104, 117, 123], Std = [1, 1, 1],
            Output = ModelDescriptor.Probabilities,
        };
    }

    private static Preprocessing ToPreprocessing(ModelDescriptor d)
    {
        var p = new Preprocessing
        {
            Resize = d.Resize, ResizeShorterSide = d.ResizeShorterSide, ChannelOrder = d.ChannelOrder, Layout = d.Layout ?? "",
            Scale = d.Scale, Mean = { d.Mean }, Std = { d.Std }, Output = d.Output,
        };
        if (d.InputSize is [var height, var width]) (p.Height, p.Width) = (height, width);
        return p;
    }
}
