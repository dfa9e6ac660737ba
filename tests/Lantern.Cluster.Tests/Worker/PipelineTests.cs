using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Api;
using Lantern.Contracts.Messages;
using Targets = Lantern.Contracts.Api.Targets;
using Fill = Lantern.Contracts.Messages.Fill;
using Lantern.Coordinator.Hosting;
using Lantern.Storage;
using Lantern.Worker.Hosting;
using Lantern.Worker.Inference;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;
using JobState = Lantern.Contracts.Api.JobState;

namespace Lantern.Cluster.Tests.Worker;

/// <summary>
/// A pipelined worker writes the next batch's inputs into the session's other slot while a batch runs. Whatever the next
/// item turns out to be (the hinted one, another, another job's, a baseline), every score must be bit-identical to a
/// worker that writes each batch just before running it.
/// </summary>
public sealed class PipelineTests
{
    private const int Size = 24;

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // each slot has its own float16 copy of the input
    public async Task Pipelined_scores_are_bit_identical_to_serial_ones_whether_or_not_the_hint_comes_true(bool float16Input)
    {
        var store = new SqliteArtifactStore($"Data Source={TestNode.TempDatabase()}");
        // Every pixel weighs differently, so every window gives its own score: a batch read from the wrong slot shows.
        var model = SyntheticModels.Linear(Size, Size, (k, c, y, x) => MathF.Sin(1 + k * 7 + c * 3 + y * 0.37f + x * 0.91f), classes: 3,
            float16Input: float16Input);
        var modelSha = (await store.PutAsync(model, "model")).Sha256;
        var imageSha = (await store.PutAsync(TestImages.Noise(Size, Size, seed: 5), "image")).Sha256;
        WorkSpec Job(string id, Fill.Types.Kind fill, int window)
        {
            var spec = new JobSpec
            {
                ModelSha256 = modelSha, ImageSha256 = imageSha, ImageWidth = Size, ImageHeight = Size,
                Preprocessing = Lantern.Gateway.Mapping.SpecMapping.ToSpec<Lantern.Contracts.Messages.Preprocessing>(TestJobs.Identity(Size, Size)), ClassCount = 3,
                Occlusion = Lantern.Gateway.Mapping.SpecMapping.ToSpec<Lantern.Contracts.Messages.OcclusionOptions>(TestJobs.Occlusion((window, 1))),
            };
            spec.Occlusion.Fill.Kind = fill;
            return new WorkSpec { JobId = id, Spec = spec, Targets = { 0, 2 } };
        }
        var a = Job("a", Fill.Types.Kind.Zero, 3);
        var b = Job("b", Fill.Types.Kind.Mean, 5);
        static WorkItem Item(long first) => new() { First = first, Count = 20 }; // three batches of up to 8
        var baseline = new WorkItem { Baseline = true };
        (WorkSpec, WorkItem, (WorkSpec, WorkItem)?)[] calls =
        [
            (a, baseline, (a, Item(0))),
            (a, Item(0), (a, Item(20))),   // the hint comes true
            (a, Item(20), (b, Item(0))),   // a job not prepared yet: nothing written ahead
            (b, baseline, (b, Item(0))),   // a baseline: any write ahead is waited out
            (b, Item(0), (a, Item(40))),   // another job's item, written ahead
            (a, Item(60), (a, Item(80))),  // ...but another item comes: the slot is rewritten
            (a, Item(40), null),
            (b, Item(20), (b, Item(20))),  // a hint naming the item itself
            (b, Item(40), (b, new WorkItem { First = 60, Count = 3 })),
            (b, new WorkItem { First = 60, Count = 3 }, null),
        ];

        async Task<(List<float[]> Blocks, long Ahead)> RunAsync(bool pipeline)
        {
            using var evaluator = new WorkEvaluator(store,
                new WorkerOptions { ExecutionProvider = ExecutionProviderPreference.Cpu, MaxBatch = 8, Pipeline = pipeline },
                NullLogger<WorkEvaluator>.Instance);
            var blocks = new List<float[]>();
            foreach (var (work, item, next) in calls) blocks.Add(await evaluator.EvaluateAsync(work, item, next));
            return (blocks, evaluator.BatchesWrittenAhead);
        }

        var (serial, serialAhead) = await RunAsync(pipeline: false);
        var (pipelined, pipelinedAhead) = await RunAsync(pipeline: true);

        Assert.Equal(0, serialAhead);
        // Written ahead and used: the second and third batches of the seven 20-window items, and the first batches of
        // a(20) and b(60), whose hints came true. b(0)'s hint a(40), a(60)'s a(80) and b(20)'s own were written for nothing.
        Assert.Equal(7 * 2 + 2, pipelinedAhead);
        for (var i = 0; i < calls.Length; i++)
        {
            Assert.True(serial[i].Length > 0);
            Assert.True(serial[i].AsSpan().SequenceEqual(pipelined[i]), $"call {i} differs");
        }
        // The windows really differ, so a batch taken from the wrong slot could not match by chance.
        Assert.True(serial[1].Distinct().Count() > serial[1].Length / 2);
    }
}

/// <summary>
/// Pipelining as the worker actor drives it, on a one-node cluster: it happens, and it changes no map bit. A real model
/// (SqueezeNet, about 4 ms an image here), because the next lease must reach the worker while an item runs, as it does
/// in service; a synthetic model's items finish before the dispatcher's answer arrives.
/// </summary>
public sealed class ClusterPipelineTests(ITestOutputHelper output)
{
    private const int Size = 224;

    [Fact]
    public async Task A_worker_writes_most_batches_ahead_and_its_maps_are_bit_identical_to_a_worker_that_does_not()
    {
        var model = await File.ReadAllBytesAsync(SharedData.Model("squeezenet1.0-fp32.onnx"));
        var image = TestImages.Noise(Size, Size, seed: 9);
        var request = new SubmitJobRequest
        {
            Preprocessing = TestJobs.Identity(Size, Size),
            Targets = new Targets { Classes = { 0, 1 } },
            Occlusion = TestJobs.Occlusion((32, 16)), // 13² = 169 windows
        };
        const int items = (169 + 15) / 16;

        async Task<(JobResult Result, long Ahead)> RunAsync(bool pipeline)
        {
            // Items of 16 in batches of 8: each item has a second batch to write ahead, and a next item's first.
            await using var node = await TestNode.StartAsync(coordinator: new CoordinatorOptions { WorkItemSize = 16 },
                worker: new WorkerOptions { MaxBatch = 8, Pipeline = pipeline });
            var result = await TestJobs.RunAsync(node, request, model, image);
            Assert.Equal(JobState.Done, result.Progress.State);
            return (result, node.BatchesWrittenAhead);
        }

        var (serial, serialAhead) = await RunAsync(pipeline: false);
        var (pipelined, pipelinedAhead) = await RunAsync(pipeline: true);

        output.WriteLine($"{pipelinedAhead} of {2 * items} batches written ahead ({items} items of two batches)");
        Assert.Equal(0, serialAhead);
        // Every item's second batch, and the first batch of most items: the worker's queued lease is the hint (20 of 22
        // here). A lease that arrives after its predecessor finished is not written ahead, so allow for a loaded machine;
        // a worker that never gets a hint in time (as with two leases) writes exactly `items` ahead and fails.
        Assert.InRange(pipelinedAhead, items + items / 3, 2 * items);
        Assert.Equal(serial.Maps.Count, pipelined.Maps.Count);
        foreach (var (s, p) in serial.Maps.Zip(pipelined.Maps))
            Assert.True(s.Data.Span.SequenceEqual(p.Data.Span), $"map of class {s.TargetClass}, window {s.Window} differs");
    }
}
