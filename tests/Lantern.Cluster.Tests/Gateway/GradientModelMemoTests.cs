using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Messages;
using Lantern.Gateway.Mapping;
using Lantern.Models;
using Lantern.Storage;

namespace Lantern.Cluster.Tests.Gateway;

/// <summary>
/// A gradient model is built once per (model, layer, rule, input shape): a later gateway on the same database (a later
/// `lantern explain`, a restarted node) finds it in the memo table instead of probing shapes and building again.
/// </summary>
public sealed class GradientModelMemoTests
{
    private const int Size = 48;

    [Fact]
    public async Task A_second_gateway_on_the_same_database_reuses_the_built_gradient_model_without_building_it()
    {
        var store = new SqliteArtifactStore($"Data Source={TestNode.TempDatabase()}");
        var bytes = SyntheticModels.RegionCnn(Size, Size, (8, 8, 12, 12));
        var modelSha256 = (await store.PutAsync(bytes, "model")).Sha256;
        var model = OnnxModelInspector.Inspect(bytes);

        var first = Spec(modelSha256);
        await new GradientModels(store, store).PrepareAsync(first, model, CancellationToken.None);
        var again = Spec(modelSha256);
        var noBuilds = new RefusesGradientModels(store);
        await new GradientModels(noBuilds, store).PrepareAsync(again, model, CancellationToken.None);

        Assert.NotEmpty(first.GradientModelSha256);
        Assert.Equal(first, again); // the same layer, shapes, gradient model and tensor names
        Assert.Equal(SyntheticModels.FeatureLayer, again.Gradient.Layer);
    }

    [Fact]
    public async Task Without_a_memo_entry_the_gateway_builds_and_stores_the_gradient_model()
    {
        var store = new SqliteArtifactStore($"Data Source={TestNode.TempDatabase()}");
        var bytes = SyntheticModels.RegionCnn(Size, Size, (8, 8, 12, 12));
        var modelSha256 = (await store.PutAsync(bytes, "model")).Sha256;

        var spec = Spec(modelSha256);
        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            new GradientModels(new RefusesGradientModels(store), store).PrepareAsync(spec, OnnxModelInspector.Inspect(bytes), CancellationToken.None));
    }

    private static JobSpec Spec(string modelSha256) => new()
    {
        ModelSha256 = modelSha256, ImageWidth = Size, ImageHeight = Size, ClassCount = 2,
        Preprocessing = SpecMapping.ToSpec<Contracts.Messages.Preprocessing>(TestJobs.Identity(Size, Size)),
        Targets = new Contracts.Messages.Targets { Classes = { 0 } },
        Gradient = new Contracts.Messages.GradientOptions { Method = "gradcam" },
    };

    /// <summary>A store that fails the test if anyone stores a gradient model in it, i.e. builds one.</summary>
    private sealed class RefusesGradientModels(IArtifactStore inner) : IArtifactStore
    {
        public Task<ArtifactPut> PutAsync(ReadOnlyMemory<byte> content, string kind, CancellationToken cancellationToken = default) =>
            kind == "gradient-model"
                ? throw new InvalidOperationException("a gradient model was built again")
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
