using System.Text.Json;
using Lantern.Cli;
using Lantern.Cluster.Tests.EndToEnd;
using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Api;
using Lantern.Imaging;

namespace Lantern.Cluster.Tests.Clients;

/// <summary>
/// <c>lantern jobs …</c> and <c>lantern result</c> against a running node: a job submitted by another client is listed,
/// fetched into the same files explain writes, and cancelled, from the shell.
/// </summary>
[Collection(CommandLineCollection.Name)]
public sealed class JobCommandTests
{
    private const int Size = 48;
    private readonly string _directory = Directory.CreateTempSubdirectory("lantern-jobs-").FullName;

    private static SubmitJobRequest Occlusion(int window, int stride) => new()
    {
        Preprocessing = TestJobs.Identity(Size, Size), Targets = new Targets { Classes = { 0 } },
        Occlusion = TestJobs.Occlusion((window, stride)), Name = "noise.png",
    };

    [Fact]
    public async Task Result_writes_the_maps_of_a_job_another_client_ran_and_list_shows_it()
    {
        await using var node = await TestNode.StartAsync();
        var model = SyntheticModels.SquareBrightness(Size, Size, (8, 8, 12, 12));
        var result = await TestJobs.RunAsync(node, Occlusion(12, 6), model, TestImages.Noise(Size, Size));
        var jobId = result.Progress.JobId;
        var output = Path.Combine(_directory, "fetched");

        Assert.Equal(0, await LanternCli.RunAsync(["result", jobId, "--out", output, "--gateway", node.Address.ToString()]));

        foreach (var file in new[] { "summary.json", "map-0.npy", "overlay-0.png" })
            Assert.True(File.Exists(Path.Combine(output, file)), $"{file} was not written");
        var (data, shape) = Npy.Decode(File.ReadAllBytes(Path.Combine(output, "map-0.npy")));
        Assert.Equal([Size, Size], shape);
        Assert.Equal(TestJobs.Floats(result.Maps.Single(m => m.Kind == "" && m.Window == 0)), data);
        Assert.Equal(result.SummaryJson, File.ReadAllText(Path.Combine(output, "summary.json")));

        var listed = await CaptureAsync(["jobs", "list", "--json", "--gateway", node.Address.ToString()]);
        var job = listed.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement)
            .Single(j => j.GetProperty("jobId").GetString() == jobId);
        Assert.Equal("JOB_STATE_DONE", job.GetProperty("state").GetString());
        Assert.Equal(0, await LanternCli.RunAsync(["jobs", "show", jobId, "--gateway", node.Address.ToString()]));

        // Pictures in another style: the same map drawn with viridis differs; an unknown colour map is INVALID_ARGUMENT.
        var viridis = Path.Combine(_directory, "viridis");
        Assert.Equal(0, await LanternCli.RunAsync(["result", jobId, "--out", viridis, "--colormap", "viridis", "--sign", "absolute",
            "--gateway", node.Address.ToString()]));
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(output, "overlay-0.png")), File.ReadAllBytes(Path.Combine(viridis, "overlay-0.png")));
        var error = await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () => await node.Api.GetResultAsync(new GetResultRequest
        {
            JobId = jobId, IncludeOverlays = true, OverlayStyle = new Contracts.Api.OverlayStyle { Colormap = "rainbow" },
        }));
        Assert.Equal(Grpc.Core.StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("viridis", error.Status.Detail);
    }

    [Fact]
    public async Task Cancel_stops_a_running_job_and_an_unknown_id_answers_not_found()
    {
        await using var node = await TestNode.StartAsync();
        var model = (await node.Client.UploadModelAsync(SyntheticModels.SquareBrightness(Size, Size, (8, 8, 12, 12)), "m.onnx")).Sha256;
        // A 200×200 image stretched to the model's input, 199² windows: still running when cancelled, even on a fast machine
        var image = (await node.Client.UploadImageAsync(TestImages.Noise(200, 200), "noise.png")).Sha256;
        var submit = Occlusion(2, 1);
        (submit.ModelSha256, submit.ImageSha256) = (model, image);
        var jobId = (await node.Api.SubmitJobAsync(submit)).JobId;

        Assert.Equal(0, await LanternCli.RunAsync(["jobs", "cancel", jobId, "--gateway", node.Address.ToString()]));
        var final = await node.Client.WatchAsync(jobId, _ => { });
        Assert.Equal(JobState.Cancelled, final.State);
        // watch on an ended job reports its state: not done, so exit code 1
        Assert.Equal(1, await LanternCli.RunAsync(["jobs", "watch", jobId, "--gateway", node.Address.ToString()]));
        Assert.Equal(1, await LanternCli.RunAsync(["jobs", "show", "0123456789abcdef", "--gateway", node.Address.ToString()]));
        Assert.Equal(1, await LanternCli.RunAsync(["result", jobId, "--out", Path.Combine(_directory, "none"), "--gateway", node.Address.ToString()]));
        Assert.False(Directory.Exists(Path.Combine(_directory, "none")));
        Assert.Equal(2, await LanternCli.RunAsync(["jobs", "list", "--state", "sleeping", "--gateway", node.Address.ToString()]));

        // rm forgets the job: its id then answers NOT_FOUND, and a second rm fails.
        Assert.Equal(0, await LanternCli.RunAsync(["jobs", "rm", jobId, "--gateway", node.Address.ToString()]));
        var gone = await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () => await node.Api.GetJobAsync(new GetJobRequest { JobId = jobId }));
        Assert.Equal(Grpc.Core.StatusCode.NotFound, gone.StatusCode);
        Assert.Equal(1, await LanternCli.RunAsync(["jobs", "rm", jobId, "--gateway", node.Address.ToString()]));
    }

    private static async Task<string> CaptureAsync(string[] args)
    {
        var original = Console.Out;
        using var writer = new StringWriter();
        Console.SetOut(writer);
        try
        {
            Assert.Equal(0, await LanternCli.RunAsync(args));
        }
        finally
        {
            Console.SetOut(original);
        }
        return writer.ToString();
    }
}
