using System.Net;
using System.Text.Json;
using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Api;
using Lantern.Imaging;
using Microsoft.Extensions.DependencyInjection;
using Lantern.Storage.Users;

namespace Lantern.Cluster.Tests.Clients;

/// <summary>
/// What the job page shows beyond the overlay, for the methods that have more to show: a multi-scale occlusion job's sheet
/// (every window and the combined map), LIME's top positive superpixels, Grad-CAM's layer; and, on a node that needs
/// keys, that the viewer shows a user their own jobs and nobody else's.
/// </summary>
public sealed class ViewerPagesTests
{
    private const int Size = 48;
    private static readonly (int X, int Y, int Width, int Height) Square = (12, 12, 12, 12);

    private static SubmitJobRequest Job(Action<SubmitJobRequest> method)
    {
        var request = new SubmitJobRequest
        {
            Preprocessing = TestJobs.Identity(Size, Size), Targets = new Targets { Classes = { 0 } }, Name = "noise.png",
            Labels = { "bright square", "the rest" },
        };
        method(request);
        return request;
    }

    [Fact]
    public async Task A_multi_scale_job_shows_its_sheet_lime_its_top_superpixel_and_grad_cam_its_layer()
    {
        await using var node = await ViewerNode.StartAsync();
        using var client = node.Client();
        using var http = new HttpClient { BaseAddress = node.HttpAddress };
        var model = SyntheticModels.SquareBrightness(Size, Size, Square);
        var image = TestImages.Noise(Size, Size, seed: 3);

        var scales = await client.RunAsync(Job(r => r.Occlusion = TestJobs.Occlusion((12, 6), (24, 12))), model, "m.onnx", image, "noise.png", _ => { });
        var page = await http.GetStringAsync($"/viewer/jobs/{scales.Progress.JobId}");
        Assert.Contains($"/viewer/jobs/{scales.Progress.JobId}/files/sheet-0.png", page);
        var sheet = ImageDecoder.Decode(await http.GetByteArrayAsync($"/viewer/jobs/{scales.Progress.JobId}/files/sheet-0.png"));
        Assert.True(sheet.Width >= 3 * Size, $"the sheet is {sheet.Width} px wide: not two windows and the combined map side by side");
        Assert.True(sheet.Pixels.Distinct().Count() > 10, "the sheet is blank");

        // 16 grid cells of 12×12: the square is exactly cell 5 (row 1, column 1), the only one class 0 looks at; hidden
        // cells go black (lime's default, each cell's own mean, would leave the square's mean brightness unchanged).
        var lime = await client.RunAsync(Job(r => r.Lime = new LimeOptions
        {
            Samples = 300, Segmentation = new Segmentation { Method = "grid", Segments = 16 }, Hide = new Fill { Kind = Fill.Types.Kind.Zero },
        }), model, "m.onnx", image, "noise.png", _ => { });
        page = await http.GetStringAsync($"/viewer/jobs/{lime.Progress.JobId}");
        Assert.Contains("Top positive features", page);
        Assert.Matches(@"<table class=features><caption>bright square · class 0</caption><tr><th>superpixel</th><th>weight</th></tr><tr><td>5</td>", page);
        Assert.Contains("LIME: top features (hide_rest)", page);

        var cnn = SyntheticModels.RegionCnn(Size, Size, Square);
        var gradCam = await client.RunAsync(Job(r => r.Gradient = new GradientOptions { Method = "gradcam" }), cnn, "cnn.onnx", image, "noise.png", _ => { });
        using var summary = JsonDocument.Parse(gradCam.SummaryJson);
        var layer = summary.RootElement.GetProperty("parameters").GetProperty("layer").GetString()!;
        Assert.NotEmpty(layer);
        page = await http.GetStringAsync($"/viewer/jobs/{gradCam.Progress.JobId}");
        Assert.Contains($"<p id=layer>layer <code>{WebUtility.HtmlEncode(layer)}</code> (4×{Size}×{Size}", page);
        Assert.Contains("<table id=parameters>", page);
        Assert.DoesNotContain("Top positive features", page);
        Assert.DoesNotContain("sheet-0.png", page);
    }

    [Fact]
    public async Task With_keys_the_viewer_lists_a_users_own_jobs_and_answers_404_for_another_teams_job()
    {
        await using var node = await ViewerNode.StartAsync(requireKeys: true);
        var users = node.App.Services.GetRequiredService<UserStore>();
        var aliceKey = (await users.AddUserAsync("alice", "vision", admin: false)).ApiKey;
        var carolKey = (await users.AddUserAsync("carol", "audio", admin: false)).ApiKey;
        using var alice = node.Client(aliceKey);
        var job = await alice.RunAsync(Job(r => r.Occlusion = TestJobs.Occlusion((12, 6))),
            SyntheticModels.SquareBrightness(Size, Size, Square), "m.onnx", TestImages.Noise(Size, Size), "noise.png", _ => { });
        var jobId = job.Progress.JobId;

        using var anonymous = new HttpClient { BaseAddress = node.HttpAddress };
        var noKey = await anonymous.GetAsync("/viewer/");
        Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
        Assert.Contains("Enter your API key", await noKey.Content.ReadAsStringAsync());

        using var asCarol = await BrowserWithKeyAsync(node, carolKey);
        Assert.DoesNotContain(jobId, await asCarol.GetStringAsync("/viewer/"));
        foreach (var path in new[] { $"/viewer/jobs/{jobId}", $"/viewer/jobs/{jobId}/overlay/0.png", $"/viewer/jobs/{jobId}/files/summary.json" })
            Assert.Equal(HttpStatusCode.NotFound, (await asCarol.GetAsync(path)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await asCarol.GetAsync($"/viewer/compare?id={jobId}")).StatusCode);

        using var asAlice = await BrowserWithKeyAsync(node, aliceKey);
        Assert.Contains($"/viewer/jobs/{jobId}", await asAlice.GetStringAsync("/viewer/"));
        Assert.Equal(HttpStatusCode.OK, (await asAlice.GetAsync($"/viewer/jobs/{jobId}/overlay/0.png")).StatusCode);
        Assert.Contains("\"job_id\"", await asAlice.GetStringAsync($"/viewer/jobs/{jobId}/files/summary.json"));
    }

    /// <summary>An HTTP client that enters <paramref name="key"/> in the page's key form and keeps the cookie, as a browser does.</summary>
    private static async Task<HttpClient> BrowserWithKeyAsync(ViewerNode node, string key)
    {
        var http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false })
        {
            BaseAddress = node.HttpAddress,
        };
        var entered = await http.PostAsync("/viewer/key", new FormUrlEncodedContent(new Dictionary<string, string> { ["key"] = key, ["back"] = "/viewer/" }));
        Assert.Equal(HttpStatusCode.Redirect, entered.StatusCode);
        return http;
    }
}
