using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Api;
using Xunit.Abstractions;
using static Lantern.Cluster.Tests.MultiProcess.MultiProcessJobs;

namespace Lantern.Cluster.Tests.MultiProcess;

/// <summary>
/// Gradient work items across processes: each carries a model-input-sized map per target (224×224 floats, 196 KB, above
/// Akka.Remote's default frame), built on the gateway, fetched by hash by worker processes without the database.
/// </summary>
[Collection(MultiProcessCollection.Name)]
[Trait("Category", "Cluster")]
public sealed class GradientProcessTests(ITestOutputHelper output)
{
    private const int Size = 224;
    private static readonly byte[] GradientModel = SyntheticModels.RegionCnn(Size, Size, (40, 60, 100, 80));
    private static readonly byte[] GradientImage = TestImages.Noise(Size, Size, seed: 13);

    private static SubmitJobRequest IntegratedGradients() => new()
    {
        Preprocessing = TestJobs.Identity(Size, Size), Targets = new Targets { Classes = { 0, 1 } },
        Gradient = new GradientOptions { Method = "integrated-gradients", Steps = 64 },
    };

    [Fact]
    public async Task Integrated_gradients_on_two_worker_processes_equal_one_process_bit_for_bit()
    {
        var one = await RunOnAsync(workers: 1);
        var two = await RunOnAsync(workers: 2);

        AssertSameMaps(one, two);
        Assert.True(Workers(two).Count > 1, $"two worker processes, but only {string.Join(", ", Workers(two))} worked");
        Assert.Contains(TestJobs.Floats(one.Maps[0]), v => v > 0);
    }

    private async Task<JobResult> RunOnAsync(int workers)
    {
        await using var cluster = new ProcessCluster(output);
        try
        {
            var port = ProcessCluster.FreePort();
            var coordinator = await cluster.StartCoordinatorAsync("coordinator", port, Path.Combine(cluster.Directory, "lantern.db"));
            var nodes = await Task.WhenAll(Enumerable.Range(1, workers).Select(i => cluster.StartWorkerAsync($"worker{i}", port)));
            await ProcessCluster.WaitUntilWorkingAsync(nodes, TimeSpan.FromMinutes(1));
            return await coordinator.Client.RunAsync(IntegratedGradients(), GradientModel, "region.onnx", GradientImage, "noise.png", _ => { });
        }
        catch
        {
            cluster.WriteLogTails();
            throw;
        }
    }
}
