using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Api;
using Lantern.Gateway.Hosting;
using Lantern.Gateway.Mapping;
using Lantern.Imaging;
using Lantern.Storage;

namespace Lantern.Cluster.Tests.Gateway;

/// <summary>
/// A LIME or KernelSHAP job's segmentation is a function of the image and the segmentation parameters: computed once,
/// then found in the memo table by a later submit, on this gateway or another on the same database.
/// </summary>
public sealed class SegmentationMemoTests
{
    private const int Size = 32;

    [Fact]
    public async Task A_second_gateway_on_the_same_database_finds_the_segmentation_without_segmenting_again()
    {
        var store = new SqliteArtifactStore($"Data Source={TestNode.TempDatabase()}");
        var first = await MapAsync(store, store, Lime(segments: 9));
        var again = await MapAsync(new RefusesSegmentations(store), store, Lime(segments: 9));

        Assert.NotEmpty(first.SegmentationSha256);
        Assert.Equal(first.SegmentationSha256, again.SegmentationSha256);
        Assert.Equal(first.FeatureCount, again.FeatureCount);
    }

    [Fact]
    public async Task Other_segmentation_parameters_segment_again()
    {
        var store = new SqliteArtifactStore($"Data Source={TestNode.TempDatabase()}");
        await MapAsync(store, store, Lime(segments: 9));

        await Assert.ThrowsAsync<InvalidOperationException>(() => MapAsync(new RefusesSegmentations(store), store, Lime(segments: 16)));
    }

    private static SubmitJobRequest Lime(int segments) => new()
    {
        Preprocessing = TestJobs.Identity(Size, Size),
        Targets = new Targets { Classes = { 0 } },
        Lime = new LimeOptions { Samples = 50, Segmentation = new Segmentation { Method = "grid", Segments = segments } },
    };

    /// <summary>A fresh gateway's mapping (nothing in memory) over <paramref name="artifacts"/> and the memo table.</summary>
    private static async Task<Contracts.Messages.JobSpec> MapAsync(IArtifactStore artifacts, IMemoStore memo, SubmitJobRequest request)
    {
        var options = new GatewayOptions();
        var catalog = new ArtifactCatalog(artifacts, options, new DecodeBudget(options.DecodeMemoryBytes));
        request.ModelSha256 = (await artifacts.PutAsync(SyntheticModels.SquareBrightness(Size, Size, (4, 4, 8, 8)), "model")).Sha256;
        request.ImageSha256 = (await catalog.PutImageAsync(TestImages.Noise(Size, Size, seed: 3), CancellationToken.None)).Put.Sha256;
        var gradients = new GradientModels(artifacts, memo);
        return await new JobRequestMapping(catalog, artifacts, options, gradients, new RegisteredModels(catalog, artifacts, gradients), memo)
            .ToSpecAsync(request, CancellationToken.None);
    }

    /// <summary>A store that fails the test if anyone stores a segmentation in it, i.e. segments.</summary>
    private sealed class RefusesSegmentations(IArtifactStore inner) : IArtifactStore
    {
        public Task<ArtifactPut> PutAsync(ReadOnlyMemory<byte> content, string kind, CancellationToken cancellationToken = default) =>
            kind == "segmentation"
                ? throw new InvalidOperationException("the image was segmented again")
                : inner.PutAsync(content, kind, cancellationToken);

        public Task<byte[]?> GetAsync(string sha256, CancellationToken cancellationToken = default) => inner.GetAsync(sha256, cancellationToken);

        public Task<bool> ExistsAsync(string sha256, CancellationToken cancellationToken = default) => inner.ExistsAsync(sha256, cancellationToken);

        public Task<ArtifactPut> PutAsync(Stream content, string sha256, long size, string kind, CancellationToken cancellationToken = default) =>
            inner.PutAsync(content, sha256, size, kind, cancellationToken);

        public Task<IReadOnlyList<string>> DeleteUnusedAsync(IReadOnlyCollection<string> kinds, long putBeforeUnixMs,
            IReadOnlySet<string> keep, CancellationToken cancellationToken = default) =>
            inner.DeleteUnusedAsync(kinds, putBeforeUnixMs, keep, cancellationToken);
    }
}
