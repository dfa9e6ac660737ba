using System.Globalization;
using Google.Protobuf;
using Lantern.Contracts.Api;
using Lantern.Contracts.Messages;
using Lantern.Explainers.Embedding;
using Lantern.Imaging;
using Lantern.Methods.Gradients;

namespace Lantern.Gateway.Mapping;

/// <summary>
/// The t-SNE view of a dataset job of method pooled-activations (MATLAB's <c>tsne</c> of <c>activations</c>, Wolfram's
/// FeatureSpacePlot): the images' pooled activations, PCA to at most <see cref="PcaDimensions"/> when the layer is
/// wider, then exact t-SNE seeded with the job's seed, so the same job and options give the same coordinates.
/// </summary>
public static class DatasetEmbeddings
{
    public const int PcaDimensions = 50;
    public const double DefaultPerplexity = 30;
    public const int DefaultIterations = 1000;
    public const int MaxIterations = 10_000;

    /// <summary>Null when the job is not a pooled-activations dataset job.</summary>
    public static (Contracts.Api.DatasetEmbedding Embedding, Picture? Picture)? Compute(DatasetJobResultReply index,
        float perplexity, int iterations, bool withPicture)
    {
        if (index.Template is not { Gradient.Method: "pooled-activations" } template) return null;
        if (!float.IsFinite(perplexity) || perplexity < 0)
            GrpcErrors.InvalidArgument($"tsne_perplexity must be a positive number (0 for the default), got {perplexity}");
        if (iterations is < 0 or > MaxIterations)
            GrpcErrors.InvalidArgument($"tsne_iterations must be between 1 and {MaxIterations:N0} (0 for {DefaultIterations:N0}), got {iterations}");
        var images = index.Images.Where(i => i.Phase == IndexedJobPhase.Done && i.Pooled.Count > 0).ToList();
        if (images.Count < 3)
            GrpcErrors.FailedPrecondition($"t-SNE needs at least 3 explained images; this job has {images.Count}");
        var n = images.Count;
        double effective = perplexity > 0 ? perplexity : Math.Max(1, Math.Min(DefaultPerplexity, (n - 1) / 3.0));
        if (effective >= n) GrpcErrors.InvalidArgument($"tsne_perplexity must be below the number of images ({n}), got {perplexity}");
        var rounds = iterations > 0 ? iterations : DefaultIterations;

        var vectors = images.Select(i => i.Pooled.ToArray()).ToList();
        var points = Pca.Project(vectors, PcaDimensions);
        var result = Tsne.Embed(points, new TsneOptions(Perplexity: effective, Iterations: rounds, Seed: template.Seed));
        var embedding = new Contracts.Api.DatasetEmbedding
        {
            Layer = template.Gradient.Layer, Dimensions = vectors[0].Length, PcaDimensions = points[0].Length,
            Perplexity = (float)effective, Iterations = rounds, Seed = template.Seed, KlDivergence = (float)result.KlDivergence,
        };
        for (var k = 0; k < n; k++)
        {
            embedding.ImageIndex.Add(images[k].Index);
            embedding.X.Add((float)result.X[k]);
            embedding.Y.Add((float)result.Y[k]);
        }
        if (!withPicture) return (embedding, null);
        var scatter = images.Select((image, k) => new Figure.ScatterPoint(result.X[k], result.Y[k],
            image.Image.Label.Length > 0 ? image.Image.Label : TopLabel(template, image), Misclassified(template, image))).ToList();
        var title = $"t-SNE of {template.Gradient.Layer} ({vectors[0].Length} channels), perplexity {effective.ToString("0.#", CultureInfo.InvariantCulture)}";
        return (embedding, new Picture { Name = "tsne.png", Png = ByteString.CopyFrom(Figure.Scatter(scatter, title, "label is not the top class")) });
    }

    /// <summary>A labelled image whose label names neither the top class's label nor its index.</summary>
    public static bool Misclassified(JobSpec template, DatasetImageOutcome image)
    {
        if (image.Image.Label.Length == 0 || image.TopClasses.Count == 0) return false;
        var top = image.TopClasses[0];
        return !string.Equals(image.Image.Label, Methods.ModelOutputs.LabelOf(template, top), StringComparison.OrdinalIgnoreCase)
               && image.Image.Label != top.ToString(CultureInfo.InvariantCulture);
    }

    private static string TopLabel(JobSpec template, DatasetImageOutcome image) =>
        image.TopClasses.Count == 0 ? "" : Methods.ModelOutputs.LabelOf(template, image.TopClasses[0]) is { Length: > 0 } label
            ? label : $"class {image.TopClasses[0]}";
}
