using System.Text.Json;
using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Api;
using Lantern.Gateway.Mapping;
using Lantern.Methods;

namespace Lantern.Cluster.Tests.EndToEnd;

/// <summary>
/// Where occlusion windows sit when the stride does not divide (image − window): Captum's placement by default (a clipped
/// last window), full windows only on request, and a journalled job without the field keeps the placement it was
/// planned with.
/// </summary>
public sealed class OcclusionBorderTests : IAsyncLifetime
{
    // 3-pixel windows, stride 2, over 8 pixels: Captum places x = 0, 2, 4, 6 (the last one 2 wide), "inside" x = 0, 2, 4.
    private const int Size = 8;
    private static readonly (int X, int Y, int Width, int Height) Corner = (5, 5, 3, 3); // the model looks at the bottom-right corner
    private readonly byte[] _model = SyntheticModels.SquareBrightness(Size, Size, Corner);
    private readonly byte[] _image = TestImages.Noise(Size, Size, seed: 11);
    private TestNode _node = null!;

    public async Task InitializeAsync() => _node = await TestNode.StartAsync();

    public async Task DisposeAsync() => await _node.DisposeAsync();

    private SubmitJobRequest Request(string border)
    {
        var request = new SubmitJobRequest
        {
            Preprocessing = TestJobs.Identity(Size, Size), Targets = new Targets { Classes = { 0 } }, Occlusion = TestJobs.Occlusion((3, 2)),
        };
        request.Occlusion.Border = border;
        return request;
    }

    [Fact]
    public async Task By_default_a_clipped_last_window_covers_the_border_as_captum_does()
    {
        var result = await TestJobs.RunAsync(_node, Request(""), _model, _image);

        Assert.Equal(1 + 4 * 4, result.Progress.Evaluations);
        var map = TestJobs.Floats(Assert.Single(result.Maps));
        Assert.True(map[7 * Size + 7] > 0, $"the corner pixel the model looks at has attribution {map[7 * Size + 7]}");
        using var summary = JsonDocument.Parse(result.SummaryJson);
        Assert.Equal("captum", summary.RootElement.GetProperty("parameters").GetProperty("border").GetString());
    }

    [Fact]
    public async Task The_inside_border_places_full_windows_only_and_leaves_the_last_pixel_uncovered()
    {
        var result = await TestJobs.RunAsync(_node, Request("inside"), _model, _image);

        Assert.Equal(1 + 3 * 3, result.Progress.Evaluations);
        var map = TestJobs.Floats(Assert.Single(result.Maps));
        Assert.Equal(0f, map[7 * Size + 7]);
        Assert.True(map[6 * Size + 6] > 0, $"pixel (6,6) has attribution {map[6 * Size + 6]}");
        using var summary = JsonDocument.Parse(result.SummaryJson);
        Assert.Equal("inside", summary.RootElement.GetProperty("parameters").GetProperty("border").GetString());
    }

    [Fact]
    public void A_persisted_spec_without_a_border_keeps_the_full_window_placement_it_was_planned_with()
    {
        // Jobs journalled before the field existed carry "": they must replay the windows they were planned with.
        var old = SpecMapping.ToSpec<Contracts.Messages.OcclusionOptions>(TestJobs.Occlusion((3, 2)));
        var captum = old.Clone();
        captum.Border = "captum";

        Assert.Equal(9, new OcclusionMethod(old, Size, Size).PerturbationCount);
        Assert.Equal(16, new OcclusionMethod(captum, Size, Size).PerturbationCount);
    }
}
