using System.Text.Json;
using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Api;
using Lantern.Coordinator.Hosting;
using CoordinatorJobState = Lantern.Coordinator.Jobs.JobState;
using Lantern.Worker.Hosting;
using Lantern.Worker.Inference;

namespace Lantern.Cluster.Tests.Worker;

/// <summary>
/// A job whose batch is not configured on the coordinator is planned with the best batch of the worker that scored its
/// baseline (configured on the worker, or measured by its sweep); on the CPU provider its maps are bit-identical to
/// those computed at batch 32, for a perturbation method and a gradient method alike.
/// </summary>
public sealed class PlannedBatchTests
{
    private const int Size = 32;
    private static readonly byte[] Model = SyntheticModels.SquareBrightness(Size, Size, (4, 4, 8, 8));
    private static readonly byte[] Image = TestImages.Noise(Size, Size);

    private static readonly SubmitJobRequest Occlusion = new()
    {
        Preprocessing = TestJobs.Identity(Size, Size), Targets = new Targets { Classes = { 0, 1 } },
        Occlusion = TestJobs.Occlusion((4, 2)),
    };

    private static async Task<(int[] Bits, JsonElement Parameters)> RunAsync(CoordinatorOptions coordinator, WorkerOptions worker,
        SubmitJobRequest request, byte[] model, byte[] image)
    {
        await using var node = await TestNode.StartAsync(coordinator: coordinator, worker: worker);
        var result = await TestJobs.RunAsync(node, request.Clone(), model, image);
        Assert.NotEmpty(result.Maps);
        using var summary = JsonDocument.Parse(result.SummaryJson);
        return ([.. result.Maps.SelectMany(m => TestJobs.Floats(m)).Select(BitConverter.SingleToInt32Bits)],
            summary.RootElement.GetProperty("parameters").Clone());
    }

    private static Task<(int[] Bits, JsonElement Parameters)> AtBatch32Async(SubmitJobRequest request, byte[] model, byte[] image) =>
        RunAsync(new CoordinatorOptions { EvalBatch = 32 }, new WorkerOptions(), request, model, image);

    [Fact]
    public async Task A_worker_configured_to_batch_8_plans_items_of_8_and_the_map_equals_the_map_at_batch_32()
    {
        var (reference, atReference) = await AtBatch32Async(Occlusion, Model, Image);
        Assert.Equal(32, atReference.GetProperty("eval_batch").GetInt32());

        var (bits, parameters) = await RunAsync(new CoordinatorOptions { WorkItemSize = 8 }, new WorkerOptions { Batch = 8 },
            Occlusion, Model, Image);

        Assert.Equal(8, parameters.GetProperty("eval_batch").GetInt32());
        Assert.Equal(8, parameters.GetProperty("work_item_size").GetInt32());
        Assert.Equal(reference, bits);
    }

    [Fact]
    public async Task A_sweeping_worker_plans_the_job_with_the_batch_it_measured_and_the_map_equals_the_map_at_batch_32()
    {
        var (reference, _) = await AtBatch32Async(Occlusion, Model, Image);

        var worker = new WorkerOptions { MaxBatch = 8, SweepBatch = true, SweepPerBatch = TimeSpan.Zero };
        var (bits, parameters) = await RunAsync(new CoordinatorOptions { WorkItemSize = 1 }, worker, Occlusion, Model, Image);

        var batch = parameters.GetProperty("eval_batch").GetInt32();
        Assert.Contains(batch, BatchSweep.Candidates(8));
        Assert.Equal(batch, parameters.GetProperty("work_item_size").GetInt32()); // one batch per item, as asked
        Assert.Equal(reference, bits);
    }

    [Fact]
    public async Task A_coordinators_configured_batch_wins_over_the_workers()
    {
        var (_, parameters) = await RunAsync(new CoordinatorOptions { EvalBatch = 6, WorkItemSize = 16, ItemsPerShortJob = 0 },
            new WorkerOptions { Batch = 8 }, Occlusion, Model, Image);

        Assert.Equal(6, parameters.GetProperty("eval_batch").GetInt32());
        Assert.Equal(18, parameters.GetProperty("work_item_size").GetInt32());
    }

    [Fact]
    public async Task Without_a_configured_or_measured_batch_a_job_is_planned_at_the_workers_largest_batch()
    {
        var (_, parameters) = await RunAsync(new CoordinatorOptions { ItemsPerShortJob = 0 }, new WorkerOptions { MaxBatch = 16 },
            Occlusion, Model, Image);

        Assert.Equal(16, parameters.GetProperty("eval_batch").GetInt32());
        Assert.Equal(32, parameters.GetProperty("work_item_size").GetInt32());
    }

    [Fact]
    public async Task A_short_job_split_into_items_of_8_on_two_workers_gives_the_map_of_items_of_32()
    {
        var worker = new WorkerOptions { Workers = 2, Batch = 4 };
        var (reference, whole) = await RunAsync(new CoordinatorOptions { ItemsPerShortJob = 0 }, worker, Occlusion, Model, Image);
        Assert.Equal(32, whole.GetProperty("work_item_size").GetInt32());

        // 225 windows: 64 items would hold 4 each, so the job is split into the smallest items, 8 (two batches of 4).
        var (bits, parameters) = await RunAsync(new CoordinatorOptions(), worker, Occlusion, Model, Image);

        Assert.Equal(4, parameters.GetProperty("eval_batch").GetInt32());
        Assert.Equal(CoordinatorJobState.SmallestShortJobItem, parameters.GetProperty("work_item_size").GetInt32());
        Assert.Equal(reference, bits);
    }

    [Fact]
    public async Task Integrated_gradients_maps_are_bit_identical_at_batches_of_1_3_and_32_rows()
    {
        const int size = 24;
        var model = SyntheticModels.RegionCnn(size, size, (4, 6, 10, 8));
        var image = TestImages.Noise(size, size, seed: 5);
        var request = new SubmitJobRequest
        {
            Preprocessing = TestJobs.Identity(size, size), Targets = new Targets { Classes = { 0, 1 } }, Seed = 3,
            Gradient = new GradientOptions { Method = "integrated-gradients", Steps = 16 },
        };

        var maps = new List<int[]>();
        foreach (var batch in new[] { 1, 3, 32 })
        {
            var (bits, parameters) = await RunAsync(new CoordinatorOptions(), new WorkerOptions { Batch = batch }, request, model, image);
            Assert.Equal(batch, parameters.GetProperty("eval_batch").GetInt32());
            maps.Add(bits);
        }

        Assert.Equal(maps[0], maps[1]);
        Assert.Equal(maps[0], maps[2]);
    }
}
