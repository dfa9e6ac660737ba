using System.CommandLine;
using Lantern.Cli.Commands;
using Lantern.Cluster.Tests.EndToEnd;
using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Api;
using Lantern.Worker.Hosting;
using Lantern.Worker.Inference;
using Microsoft.Extensions.DependencyInjection;

namespace Lantern.Cluster.Tests.Worker;

/// <summary>
/// How a node lays its cores out for inference: worker actors side by side, each session with its share of the cores
/// as ONNX Runtime threads (WorkerOptions.ForHardware, SessionThreads).
/// </summary>
public sealed class WorkerLayoutTests
{
    /// <summary>
    /// Workers of one kind on machines of different sizes run a job's sessions with different thread counts. Their maps
    /// must still be the same bits, and are on every shared model (ONNX Runtime's CPU provider, 1 against 3 threads).
    /// A map that differed in its last bit between a 1-thread and a 3-thread worker would break "a job's maps are
    /// bit-identical on any number of workers of the same kind".
    /// </summary>
    [Theory]
    [MemberData(nameof(RealModelTests.Models), MemberType = typeof(RealModelTests))]
    public async Task A_jobs_maps_are_the_same_bits_whatever_the_workers_thread_count(string model)
    {
        var modelBytes = await File.ReadAllBytesAsync(SharedData.Model(model));
        var image = await File.ReadAllBytesAsync(SharedData.Image("tench.png"));
        var submit = new SubmitJobRequest
        {
            Preprocessing = RealModelTests.PreprocessingOf(model),
            Targets = new Targets { TopK = 2 },
            Occlusion = TestJobs.Occlusion((56, 28)), // 7×7 windows over 224×224, in batches of 4
            NoCache = true,
        };

        var maps = new List<byte[]>();
        foreach (var threads in new[] { 1, 3 })
        {
            await using var node = await TestNode.StartAsync(worker: new WorkerOptions { IntraOpThreads = threads, Batch = 4 });
            Assert.Contains($"{threads} intra-op thread", Assert.Single(node.Services.GetRequiredService<WorkEvaluators>().Providers));
            var result = await TestJobs.RunAsync(node, submit, modelBytes, image);
            maps.Add([.. result.Maps.SelectMany(map => map.Data.ToByteArray())]);
        }

        Assert.True(maps[0].Length > 0);
        Assert.Equal(maps[0], maps[1]);
    }

    [Fact]
    public void On_a_cpu_the_default_layout_is_one_single_threaded_worker_per_core()
    {
        var cores = Environment.ProcessorCount;
        var auto = new WorkerOptions { Workers = 0 }.ForHardware(runsOnCuda: false);
        Assert.Equal((cores, 1), (auto.Workers, auto.SessionThreads));

        // Threads asked for: as many workers as that leaves room for, never none.
        var wide = new WorkerOptions { Workers = 0, IntraOpThreads = 2 }.ForHardware(runsOnCuda: false);
        Assert.Equal((Math.Max(1, cores / 2), 2), (wide.Workers, wide.SessionThreads));
        var tooWide = new WorkerOptions { Workers = 0, IntraOpThreads = cores + 1 }.ForHardware(runsOnCuda: false);
        Assert.Equal(1, tooWide.Workers);

        // On CUDA one worker fills the device; a configured count is kept as it is, its sessions sharing the cores.
        Assert.Equal(1, new WorkerOptions { Workers = 0 }.ForHardware(runsOnCuda: true).Workers);
        var two = new WorkerOptions { Workers = 2 }.ForHardware(runsOnCuda: false);
        Assert.Equal((2, Math.Max(1, cores / 2)), (two.Workers, two.SessionThreads));
    }

    [Fact]
    public void Workers_pipeline_on_cuda_and_on_a_cpu_with_a_core_to_spare_but_not_when_inference_fills_every_core()
    {
        var cores = Environment.ProcessorCount;
        // serve's CPU layout, and one worker whose session takes every core: no core is left to write ahead on.
        Assert.False(new WorkerOptions { Workers = 0 }.ForHardware(runsOnCuda: false).PipelinesOn(runsOnCuda: false));
        Assert.False(new WorkerOptions { Workers = 1 }.PipelinesOn(runsOnCuda: false));
        // The device runs the batch while the CPU writes the next.
        Assert.True(new WorkerOptions { Workers = 0 }.ForHardware(runsOnCuda: true).PipelinesOn(runsOnCuda: true));
        // Fewer inference threads than cores leave one free (on a one-core machine there is none).
        Assert.Equal(cores > 1, new WorkerOptions { Workers = 1, IntraOpThreads = 1 }.PipelinesOn(runsOnCuda: false));
        // Asked for either way, it is.
        Assert.True(new WorkerOptions { Workers = 0, Pipeline = true }.ForHardware(runsOnCuda: false).PipelinesOn(runsOnCuda: false));
        Assert.False(new WorkerOptions { Workers = 0, Pipeline = false }.ForHardware(runsOnCuda: true).PipelinesOn(runsOnCuda: true));
    }

    [Theory]
    [InlineData("", null)]
    [InlineData("--pipeline", true)]
    [InlineData("--no-pipeline", false)]
    public void Serve_leaves_pipelining_to_the_hardware_unless_told(string arguments, bool? pipeline)
    {
        var settings = new NodeSettings();
        var command = new RootCommand();
        settings.AddTo(command);
        Assert.Equal(pipeline, settings.Worker(command.Parse(arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries))).Pipeline);

        var both = command.Parse(["--pipeline", "--no-pipeline"]);
        Assert.Contains("contradict", Assert.Throws<ArgumentException>(() => settings.Worker(both)).Message);
    }

    [Fact]
    public async Task A_node_left_to_choose_starts_a_single_threaded_worker_per_core_and_explains_with_them()
    {
        await using var node = await TestNode.StartAsync(worker: new WorkerOptions { Workers = 0, Batch = 4 });
        var metrics = node.Services.GetRequiredService<WorkerMetrics>();
        Assert.Equal(Environment.ProcessorCount, metrics.ProvidersLoaded);
        Assert.Contains("1 intra-op thread", Assert.Single(node.Services.GetRequiredService<WorkEvaluators>().Providers));

        var submit = new SubmitJobRequest
        {
            Preprocessing = TestJobs.Identity(32, 32), Targets = new Targets { Classes = { 0 } },
            Occlusion = TestJobs.Occlusion((4, 4)),
        };
        var result = await TestJobs.RunAsync(node, submit, SyntheticModels.SquareBrightness(32, 32, (4, 4, 8, 8)), TestImages.Noise(32, 32));
        var map = TestJobs.Floats(Assert.Single(result.Maps));
        var peak = Array.IndexOf(map, map.Max());
        Assert.True(peak % 32 is >= 4 and < 12 && peak / 32 is >= 4 and < 12, $"the occlusion peak at {peak % 32},{peak / 32} is off the square");
    }
}
