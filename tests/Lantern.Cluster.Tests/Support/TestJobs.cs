using System.Runtime.InteropServices;
using Lantern.Contracts.Api;

namespace Lantern.Cluster.Tests.Support;

/// <summary>Small builders for API requests and readers for API results, shared by the cluster tests.</summary>
public static class TestJobs
{
    /// <summary>Preprocessing that hands the model the image's pixels unchanged (0–255, RGB, no resize for a same-size image).</summary>
    public static Preprocessing Identity(int width, int height) => new()
    {
        Width = width, Height = height, Resize = "stretch", ChannelOrder = "rgb", Layout = "nchw", Scale = 1,
        Mean = { 0, 0, 0 }, Std = { 1, 1, 1 }, Output = "logits",
    };

    public static OcclusionOptions Occlusion(params (int Window, int Stride)[] scales)
    {
        var options = new OcclusionOptions { Fill = new Fill { Kind = Fill.Types.Kind.Zero } };
        foreach (var (window, stride) in scales)
            options.Windows.Add(new Window { Height = window, Width = window, StrideY = stride, StrideX = stride });
        return options;
    }

    public static float[] Floats(AttributionMap map) => MemoryMarshal.Cast<byte, float>(map.Data.Span).ToArray();

    /// <summary>
    /// Runs the job afresh (no_cache): these tests specify what a computation gives, and a test class's shared node would
    /// otherwise answer a request repeated across its tests from the first one's result (ResultReuseTests test that).
    /// </summary>
    public static async Task<JobResult> RunAsync(TestNode node, SubmitJobRequest submit, byte[] model, byte[] image)
    {
        submit.NoCache = true;
        var result = await node.Client.RunAsync(submit, model, "model.onnx", image, "image.png", _ => { });
        return result;
    }
}
