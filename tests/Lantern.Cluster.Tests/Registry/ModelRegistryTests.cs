using Grpc.Core;
using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Api;
using ModelsClient = Lantern.Contracts.Api.Models.ModelsClient;

namespace Lantern.Cluster.Tests.Registry;

/// <summary>The model registry over gRPC against a real node: register, list, show, remove, and jobs that name a model.</summary>
public sealed class ModelRegistryTests : IAsyncLifetime
{
    private const int Size = 64;
    private TestNode _node = null!;
    private ModelsClient _models = null!;

    public async Task InitializeAsync()
    {
        _node = await TestNode.StartAsync();
        _models = new ModelsClient(_node.Client.Channel);
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    private async Task<string> UploadAsync(byte[] model) => (await _node.Client.UploadModelAsync(model, "model.onnx")).Sha256;

    private async Task<RegisteredModel> PushAsync(string name, string version, byte[] model, params string[] labels) =>
        await _models.PushModelAsync(new PushModelRequest
        {
            Name = name, Version = version, ModelSha256 = await UploadAsync(model), Description = $"{name}, for a test",
            Preprocessing = TestJobs.Identity(Size, Size), Labels = { labels },
        });

    [Fact]
    public async Task A_pushed_model_is_listed_shown_with_its_layers_and_gone_once_removed()
    {
        var cnn = SyntheticModels.RegionCnn(Size, Size, (8, 8, 16, 16));
        var pushed = await PushAsync("region", "1", cnn, "inside", "outside");
        await PushAsync("region", "2", cnn);

        Assert.Equal(["region:1", "region:2"], (await _models.ListModelsAsync(new ListModelsRequest())).Models.Select(m => $"{m.Name}:{m.Version}"));
        var shown = await _models.GetModelAsync(new GetModelRequest { Model = "region:1" });
        Assert.Equal(pushed.ModelSha256, shown.ModelSha256);
        Assert.Equal(["inside", "outside"], shown.Labels);
        Assert.Equal("region, for a test", shown.Description);
        Assert.Equal([1, 3, Size, Size], shown.Model.InputShape.Select(d => d == -1 ? 1 : d));
        Assert.Equal(TestJobs.Identity(Size, Size).Mean, shown.Preprocessing.Mean);
        var layer = Assert.Single(shown.Layers, l => l.GradcamDefault);
        Assert.Equal(SyntheticModels.FeatureLayer, layer.Name);
        Assert.Equal([4, Size, Size], layer.Shape);

        await _models.RemoveModelAsync(new RemoveModelRequest { Model = "region:1" });

        var gone = await Assert.ThrowsAsync<RpcException>(() => _models.GetModelAsync(new GetModelRequest { Model = "region:1" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, gone.StatusCode);
        Assert.Equal(["region:2"], (await _models.ListModelsAsync(new ListModelsRequest())).Models.Select(m => $"{m.Name}:{m.Version}"));
        var again = await Assert.ThrowsAsync<RpcException>(() => _models.RemoveModelAsync(new RemoveModelRequest { Model = "region:1" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, again.StatusCode);
    }

    [Fact]
    public async Task The_same_name_and_version_cannot_be_pushed_twice()
    {
        var model = SyntheticModels.SquareBrightness(Size, Size, (8, 8, 8, 8));
        await PushAsync("square", "1", model);

        var e = await Assert.ThrowsAsync<RpcException>(() => PushAsync("square", "1", model));

        Assert.Equal(StatusCode.AlreadyExists, e.StatusCode);
    }

    [Theory]
    [InlineData("two-inputs", "2 inputs")]
    [InlineData("unknown-op", "ONNX Runtime cannot load the model")]
    [InlineData("fails-at-run-time", "forward pass on a blank 64x64 image failed")]
    public async Task A_model_that_cannot_be_explained_is_refused_at_registration_with_the_reason(string kind, string reason)
    {
        var e = await Assert.ThrowsAsync<RpcException>(() => PushAsync("broken", "1", SyntheticModels.Broken(Size, Size, kind)));

        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains(reason, e.Status.Detail);
        Assert.Empty((await _models.ListModelsAsync(new ListModelsRequest())).Models);
    }

    [Theory]
    [InlineData(0, "the model's input size is symbolic; give preprocessing width and height")]
    [InlineData(100_000, "preprocessing size 100000x100000 is too large: the model input may be at most 8192x8192")]
    public async Task A_free_size_model_needs_a_sane_registered_size(int side, string reason)
    {
        var preprocessing = TestJobs.Identity(side, side);
        var request = new PushModelRequest
        {
            Name = "free", Version = "1", ModelSha256 = await UploadAsync(SyntheticModels.Broken(0, 0, "free-size")), Preprocessing = preprocessing,
        };

        var e = await Assert.ThrowsAsync<RpcException>(() => _models.PushModelAsync(request).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains(reason, e.Status.Detail);
        request.Preprocessing = TestJobs.Identity(40, 30);
        var registered = await _models.PushModelAsync(request); // a sane size registers, and jobs then use it
        Assert.Equal((40, 30), (registered.Preprocessing.Width, registered.Preprocessing.Height));
    }

    [Theory]
    [InlineData("", "1", "name")]
    [InlineData("has space", "1", "name")]
    [InlineData("square", "", "version")]
    [InlineData("square", "1:2", "version")]
    public async Task A_bad_name_or_version_is_refused(string name, string version, string field)
    {
        var e = await Assert.ThrowsAsync<RpcException>(() => PushAsync(name, version, SyntheticModels.SquareBrightness(Size, Size, (8, 8, 8, 8))));

        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains($"model {field}", e.Status.Detail);
    }

    [Fact]
    public async Task Labels_that_do_not_match_the_models_classes_are_refused()
    {
        var e = await Assert.ThrowsAsync<RpcException>(() =>
            PushAsync("square", "1", SyntheticModels.SquareBrightness(Size, Size, (8, 8, 8, 8)), "one", "two", "three"));

        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("3 labels; the model has 2 classes", e.Status.Detail);
    }

    [Fact]
    public async Task A_job_naming_a_registered_model_gets_its_preprocessing_and_labels_and_the_map_of_the_same_job_by_hash()
    {
        var model = SyntheticModels.SquareBrightness(Size, Size, (16, 16, 16, 16));
        var registered = await PushAsync("square", "3", model, "bright square", "the rest");
        var image = (await _node.Client.UploadImageAsync(TestImages.Noise(Size, Size), "noise.png")).Sha256;
        var occlusion = TestJobs.Occlusion((8, 4));

        var byName = await RunAsync(new SubmitJobRequest
        {
            Model = "square:3", ImageSha256 = image, Targets = new Targets { Classes = { 0 } }, Occlusion = occlusion,
        });
        var byHash = await RunAsync(new SubmitJobRequest
        {
            ModelSha256 = registered.ModelSha256, ImageSha256 = image, Preprocessing = TestJobs.Identity(Size, Size),
            Targets = new Targets { Classes = { 0 } }, Occlusion = occlusion,
        });

        Assert.Equal(TestJobs.Floats(byHash.Maps[0]), TestJobs.Floats(byName.Maps[0]));
        Assert.Contains(byName.TopClasses, c => c.Label == "bright square");
        Assert.Contains(byHash.TopClasses, c => c.Label == "");
        // The map is the square's: positive inside it, so the registered (identity) preprocessing applied, not the defaults.
        var map = TestJobs.Floats(byName.Maps[0]);
        Assert.True(map[24 * Size + 24] > 0);
    }

    [Fact]
    public async Task A_job_naming_an_unknown_model_or_both_a_name_and_a_hash_is_refused()
    {
        var image = (await _node.Client.UploadImageAsync(TestImages.Noise(Size, Size), "noise.png")).Sha256;
        var request = new SubmitJobRequest { Model = "nothing:1", ImageSha256 = image, Occlusion = TestJobs.Occlusion((8, 4)) };

        var unknown = await Assert.ThrowsAsync<RpcException>(() => _node.Api.SubmitJobAsync(request).ResponseAsync);
        request.ModelSha256 = new string('a', 64);
        var both = await Assert.ThrowsAsync<RpcException>(() => _node.Api.SubmitJobAsync(request).ResponseAsync);

        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("no registered model nothing:1", unknown.Status.Detail);
        Assert.Equal(StatusCode.InvalidArgument, both.StatusCode);
    }

    private async Task<JobResult> RunAsync(SubmitJobRequest request)
    {
        var id = (await _node.Api.SubmitJobAsync(request)).JobId;
        var final = await _node.Client.WatchAsync(id, _ => { });
        Assert.Equal(JobState.Done, final.State);
        return await _node.Api.GetResultAsync(new GetResultRequest { JobId = id });
    }
}
