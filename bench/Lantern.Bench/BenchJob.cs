using Lantern.Imaging;
using Lantern.Contracts.Api;
using Lantern.Methods;
using Lantern.Contracts.Messages;
using Preprocessing = Lantern.Contracts.Api.Preprocessing;
using Targets = Lantern.Contracts.Api.Targets;
using ScoreKind = Lantern.Contracts.Api.ScoreKind;
using Lantern.Gateway.Hosting;
using Lantern.Gateway.Mapping;
using Lantern.Models;

namespace Lantern.Bench;

/// <summary>
/// One explanation job, the unit every path measures: a model, an image, a method, the API request for them, and the
/// JobSpec the gateway resolves that request to (resolved here by the gateway's own mapping, so all paths run the same
/// job; for LIME the mapping also segments the image and stores the segmentation, as the gateway does).
/// </summary>
public sealed class BenchJob
{
    private BenchJob(string modelPath, byte[] model, OnnxModelInfo info, string imagePath, byte[] image, BenchMethod method,
        SubmitJobRequest submit, JobSpec spec, InMemoryArtifactStore store, string? twinPath, byte[]? twin)
    {
        TwinPath = twinPath;
        TwinBytes = twin;
        Method = method;
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
    public BenchMethod Method { get; }

    /// <summary>Gradient methods on a quantized model: the float32 twin differentiated in its place (null otherwise).</summary>
    public string? TwinPath { get; }
    public string? TwinName => TwinPath is null ? null : Path.GetFileName(TwinPath);
    public byte[]? TwinBytes { get; }

    /// <summary>The request as a client sends it, before the upload hashes are filled in; clone it per submission.</summary>
    public SubmitJobRequest Submit { get; }
    public JobSpec Spec { get; }

    /// <summary>
    /// Perturbed images the job evaluates (gradient methods: gradient evaluations, each a forward and a backward pass);
    /// the cluster also evaluates the unperturbed image once.
    /// </summary>
    public long Perturbations => MethodCatalog.For(Spec).PerturbationCount;

    /// <summary>Holds the model, the image and any segmentation, for the in-process path.</summary>
    public InMemoryArtifactStore Store { get; }

    /// <param name="twinPath">For gradient methods: a float32 twin of a quantized model, differentiated in its place.</param>
    /// <exception cref="Grpc.Core.RpcException">The gateway refuses the request, e.g. a gradient method on a model with an op that has no backward rule.</exception>
    public static async Task<BenchJob> CreateAsync(string modelPath, string imagePath, BenchMethod method, string? twinPath = null)
    {
        if (!method.IsGradient) twinPath = null;
        foreach (var path in new[] { modelPath, imagePath, twinPath })
            if (path is not null && !File.Exists(path)) throw new FileNotFoundException($"no such file: {path}", path);

        var model = await File.ReadAllBytesAsync(modelPath);
        var image = await File.ReadAllBytesAsync(imagePath);
        var submit = new SubmitJobRequest
        {
            Preprocessing = ToPreprocessing(DescriptorFor(modelPath)),
            Targets = new Targets { TopK = 1 },
            Score = ScoreKind.Output,
            Seed = 0,
            Name = $"bench {method.Name} {Path.GetFileName(modelPath)}",
        };
        method.ApplyTo(submit);

        var store = new InMemoryArtifactStore();
        var gateway = new GatewayOptions();
        var catalog = new ArtifactCatalog(store, gateway, new DecodeBudget(gateway.DecodeMemoryBytes));
        // The catalog takes model uploads spooled to disk; the bench's store is in memory: put the bytes, then inspect them.
        var modelPut = await store.PutAsync(model, "model");
        var info = await catalog.ModelAsync(modelPut.Sha256, CancellationToken.None);
        var (imagePut, _, _) = await catalog.PutImageAsync(image, CancellationToken.None);
        var twin = twinPath is null ? null : await File.ReadAllBytesAsync(twinPath);
        var request = submit.Clone();
        request.ModelSha256 = modelPut.Sha256;
        request.ImageSha256 = imagePut.Sha256;
        if (twin is not null) request.Gradient.TwinModelSha256 = (await store.PutAsync(twin, "model")).Sha256;
        var gradients = new GradientModels(store);
        var spec = await new JobRequestMapping(catalog, store, gateway, gradients, new RegisteredModels(catalog, store, gradients))
            .ToSpecAsync(request, CancellationToken.None);
        return new BenchJob(modelPath, model, info, imagePath, image, method, submit, spec, store, twinPath, twin);
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
