using System.Net;
using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Api;
using Lantern.Imaging;

namespace Lantern.Cluster.Tests.Clients;

/// <summary>
/// The web viewer on a node's HTTP/1.1 port, fetched as a browser does: the jobs page lists a job run through the API,
/// its page shows the overlay, a colour-map switch changes the picture, an unknown job answers 404.
/// </summary>
public sealed class ViewerTests
{
    private const int Size = 48;

    [Fact]
    public async Task The_viewer_lists_a_job_and_shows_its_overlay_in_the_chosen_colour_map()
    {
        await using var node = await ViewerNode.StartAsync();
        using var client = node.Client();
        var submit = new SubmitJobRequest
        {
            Preprocessing = TestJobs.Identity(Size, Size), Targets = new Targets { Classes = { 0 } },
            Occlusion = TestJobs.Occlusion((12, 6)), Name = "noise.png",
        };
        var result = await client.RunAsync(submit, SyntheticModels.SquareBrightness(Size, Size, (8, 8, 12, 12)), "m.onnx",
            TestImages.Noise(Size, Size), "noise.png", _ => { });
        var jobId = result.Progress.JobId;
        using var http = new HttpClient { BaseAddress = node.HttpAddress };

        var jobs = await http.GetStringAsync("/viewer/");
        Assert.Contains($"/viewer/jobs/{jobId}", jobs);
        var page = await http.GetStringAsync($"/viewer/jobs/{jobId}");
        Assert.Contains($"/viewer/jobs/{jobId}/overlay/0.png", page);
        Assert.Contains("map-0.npy", page);

        var auto = await http.GetByteArrayAsync($"/viewer/jobs/{jobId}/overlay/0.png");
        var viridis = await http.GetByteArrayAsync($"/viewer/jobs/{jobId}/overlay/0.png?colormap=viridis");
        var plain = ImageDecoder.Decode(await http.GetByteArrayAsync($"/viewer/jobs/{jobId}/overlay/0.png?plain=true"));
        Assert.Equal((Size, Size), (plain.Width, plain.Height));
        Assert.True(plain.Pixels.Distinct().Count() > 10, "the overlay is blank");
        Assert.NotEqual(auto, viridis);
        var npy = await http.GetByteArrayAsync($"/viewer/jobs/{jobId}/files/map-0.npy");
        Assert.Equal(TestJobs.Floats(result.Maps.Single(m => m.Window == 0 && m.Kind == "")), Npy.Decode(npy).Data);

        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/viewer/jobs/0123456789abcdef")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync($"/viewer/jobs/{jobId}/overlay/0.png?colormap=rainbow")).StatusCode);
    }
}
