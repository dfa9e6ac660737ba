using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Grpc.Core;
using Lantern.Contracts.Api;
using Lantern.Coordinator.Hosting;

namespace Lantern.Bench.ControlPlane;

/// <summary>
/// <c>Lantern.Bench --control-plane</c>: the coordinator at scale, on a model whose evaluation is nearly free
/// (<see cref="TinyModel"/>), so what is measured is the dispatcher, the job entity with its SQLite journal and the
/// assembler. Every node is a child process (<see cref="BenchNode"/>), so its RSS and CPU are its own and a crash is a
/// real SIGKILL. Four sections, each in fresh nodes on a fresh SQLite file: throughput by worker count, coordinator memory
/// and journal rows by job size, recovery after a kill at half-way with and without snapshots, and ListJobs latency by
/// the number of finished jobs.
/// </summary>
public static class ControlPlaneRun
{
    private static readonly int ItemSize = new CoordinatorOptions().WorkItemSize;
    private static readonly int DefaultSnapshotEvery = new CoordinatorOptions().SnapshotEveryItems;

    /// <summary>
    /// What each section runs. The memory jobs each have a time bound: a job not done by then is reported over the items
    /// it did (the table says so). Sized so that the whole run stays near 15 minutes on a loaded 2-core machine, where the
    /// control plane moved about 100 items/s: 10⁵ and 10⁶ items do not finish there in that time.
    /// </summary>
    /// <param name="RiseItems">The RISE row's job: larger than the occlusion rows', whose items cost far more, so that its
    /// steady part lasts seconds at its rate.</param>
    /// <param name="WarmUpBound">Warm-up jobs run until tiered compilation has settled (<see cref="WarmUpAsync"/>) or this passes.</param>
    private sealed record Sizes(long ThroughputItems, long RiseItems, long WarmUpItems, TimeSpan WarmUpBound, int LargeItemSize,
        long[] MemoryItems, double[] MemoryBoundSeconds, long RecoveryItems, int[] ListCounts);

    private static readonly Sizes Full = new(5_000, 200_000, 500, TimeSpan.FromSeconds(120), 256,
        [10_000, 100_000, 1_000_000], [300, 300, 900], 1_000_000, [10, 1_000, 10_000]);
    private static readonly Sizes QuickSizes = new(1_500, 60_000, 200, TimeSpan.FromSeconds(45), 256,
        [1_000, 10_000, 100_000], [120, 120, 120], 100_000, [10, 100, 1_000]);

    /// <summary>Warm-up ends when the JIT compiled for less than this share of the last <see cref="SettledWindow"/> of warm-up jobs.</summary>
    private const double SettledJitShare = 0.02;
    private static readonly TimeSpan SettledWindow = TimeSpan.FromSeconds(3);

    public static async Task<int> RunAsync(BenchOptions options, IReadOnlyList<string> args)
    {
        var sizes = options.Quick ? QuickSizes : Full;
        var home = Directory.CreateTempSubdirectory("lantern-ctlbench-").FullName;
        var machine = Report.Machine();
        var loadAtStart = Report.Load();
        foreach (var line in machine) Console.WriteLine(line);
        Console.WriteLine($"{loadAtStart} (start)");
        var clock = Stopwatch.StartNew();
        var md = new StringBuilder();
        try
        {
            var sections = options.ControlPlaneSections;
            if (sections.Contains("throughput")) md.AppendLine(await ThroughputAsync(home, sizes));
            if (sections.Contains("memory")) md.AppendLine(await MemoryAsync(home, sizes));
            if (sections.Contains("recovery")) md.AppendLine(await RecoveryAsync(home, sizes));
            if (sections.Contains("list")) md.AppendLine(await ListJobsAsync(home, sizes));
        }
        finally
        {
            try
            {
                Directory.Delete(home, recursive: true);
            }
            catch (IOException)
            {
                // a file still held: /tmp is cleaned by the OS
            }
        }
        var loadAtEnd = Report.Load();
        Console.WriteLine($"{loadAtEnd} (end); {clock.Elapsed.TotalMinutes:F1} min in all");
        if (options.Results is null) Console.WriteLine(md);
        if (options.Results is { } path)
        {
            var header = new StringBuilder();
            header.AppendLine("## Control plane (`--control-plane`)");
            header.AppendLine();
            header.AppendLine("Written by `Lantern.Bench --control-plane --results`; every figure below was measured in the one run described here. `bench/README.md` says what each table measures.");
            header.AppendLine();
            header.AppendLine($"- command: `dotnet run -c Release --project bench/Lantern.Bench -- {string.Join(' ', args)}`");
            header.AppendLine($"- finished: {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC, {clock.Elapsed.TotalMinutes:F1} min in all");
            foreach (var line in machine) header.AppendLine($"- {line}");
            header.AppendLine($"- {loadAtStart} at the start, {loadAtEnd.Replace("load average: ", "", StringComparison.Ordinal)} at the end " +
                              "(a shared machine: compare figures within this run only)");
            header.AppendLine($"- model: {TinyModel.InputSize}×{TinyModel.InputSize}×3 linear, one class (a Gemm of 192 weights); jobs: occlusion of every pixel " +
                              "(1×1 window, stride 1, zero fill) of an S×S image resized to the model input, S² perturbations, or RISE " +
                              $"(2×2 cells) on an image of the input's size; work items of {ItemSize} unless a row says otherwise");
            header.AppendLine();
            Report.ReplaceSection(path, "control-plane", header + md.ToString());
            Console.WriteLine($"wrote the control-plane section of {path}");
        }
        return 0;
    }

    private static string NewDatabase(string home, string name) =>
        Path.Combine(Directory.CreateDirectory(Path.Combine(home, name)).FullName, "lantern.db");

    private static string F(double value, string format = "F1") => value.ToString(format, CultureInfo.InvariantCulture);

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    // ---------------------------------------------------------------- throughput

    private static async Task<string> ThroughputAsync(string home, Sizes sizes)
    {
        Console.WriteLine($"== throughput: a job of ~{N(sizes.ThroughputItems)} items, 1, 2 and 4 worker actors; then 2 workers with items of {sizes.LargeItemSize}; " +
                          $"then a RISE job of ~{N(sizes.RiseItems)} items whose perturbations cost next to nothing; each after warm-up jobs until the JIT settles");
        var md = new StringBuilder();
        md.AppendLine("### Items per second through dispatcher + job entity + assembler");
        md.AppendLine();
        md.AppendLine("One node (gateway, coordinator and worker roles) in a child process. Warm-up jobs run first, one after another, until " +
                      $"the node's JIT compiled for less than {SettledJitShare:P0} of the wall time of the warm-up jobs of the last {SettledWindow.TotalSeconds:0} s (a young .NET process keeps " +
                      "recompiling its hot methods at higher tiers for tens of seconds, on the cores the work needs) or " +
                      $"{sizes.WarmUpBound.TotalSeconds:0} s pass; then the measured job. Rates are over the steady part of the job (from 10 % to 90 % " +
                      "of its items); `node CPU` is the node process's CPU seconds per wall second over the same part (2.0 = both cores), " +
                      "`JIT` the share of that wall time the node's JIT spent compiling.");
        md.AppendLine();
        md.AppendLine($"| job | worker actors | item size | items | evaluations | items/s | evaluations/s | job s (submit to done) | node CPU (cores) | JIT | warm-up jobs | warm-up s | warm-up JIT, last {SettledWindow.TotalSeconds:0} s | node peak RSS MB |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        var side = TinyModel.SideFor(sizes.ThroughputItems, ItemSize);
        var rows = new List<(int Workers, int ItemSize, double ItemsPerSecond, double Cpu)>();
        foreach (var (workers, itemSize, rise) in new[]
                 {
                     (1, ItemSize, false), (2, ItemSize, false), (4, ItemSize, false), (2, sizes.LargeItemSize, false), (2, ItemSize, true),
                 })
        {
            var spec = new NodeSpec
            {
                Database = NewDatabase(home, $"throughput-{workers}-{itemSize}{(rise ? "-rise" : "")}"), Workers = workers, WorkItemSize = itemSize,
            };
            await using var node = await BenchNode.StartAsync(spec);
            var jobs = new ControlPlaneJobs(node);
            var warm = rise ? await jobs.PrepareRiseAsync(sizes.WarmUpItems, itemSize) : await jobs.PrepareAsync(TinyModel.SideFor(sizes.WarmUpItems, itemSize));
            var warmUp = await WarmUpAsync(jobs, warm, sizes.WarmUpBound);
            var request = rise ? await jobs.PrepareRiseAsync(sizes.RiseItems, itemSize) : await jobs.PrepareAsync(side);
            node.RestartPeak();
            var id = await jobs.SubmitAsync(request);
            var samples = await jobs.FollowAsync(id, ControlPlaneJobs.IsDone, TimeSpan.FromMinutes(10));
            var done = await jobs.GetAsync(id);
            var (itemsPerSecond, cpu, jit) = SteadyRate(samples);
            var evaluationsPerSecond = itemsPerSecond * done.Evaluations / Math.Max(1, done.ItemsTotal);
            rows.Add((workers, itemSize, itemsPerSecond, cpu));
            var job = rise ? "RISE, 8×8 image (perturbations next to free)" : $"occlusion 1×1, {side}² image";
            var line = $"| {job} | {workers} | {itemSize} | {N(done.ItemsTotal)} | {N(done.Evaluations)} | {F(itemsPerSecond, "F0")} | {F(evaluationsPerSecond, "F0")} | " +
                       $"{F((done.FinishedUnixMs - done.SubmittedUnixMs) / 1000.0, "F2")} | {F(cpu, "F2")} | {F(100 * jit, "F1")} % | {warmUp.Jobs} | " +
                       $"{F(warmUp.Seconds, "F1")} | {F(100 * warmUp.LastJitShare, "F1")} % | {F(node.PeakRssMb, "F0")} |";
            Console.WriteLine(line);
            md.AppendLine(line);
        }
        md.AppendLine();
        var one = rows[0];
        var two = rows[1];
        var four = rows[2];
        var large = rows[3];
        var free = rows[4];
        md.AppendLine($"Ratios in this run: 2 workers ÷ 1 = {F(two.ItemsPerSecond / one.ItemsPerSecond, "F2")}, 4 ÷ 1 = {F(four.ItemsPerSecond / one.ItemsPerSecond, "F2")}; " +
                      $"items of {large.ItemSize} ÷ items of {ItemSize} (2 workers) = {F(large.ItemsPerSecond / two.ItemsPerSecond, "F2")} in items/s, " +
                      $"{F(large.ItemsPerSecond * large.ItemSize / (two.ItemsPerSecond * ItemSize), "F2")} in evaluations/s; " +
                      $"RISE with perturbations next to free ÷ occlusion (2 workers, items of {ItemSize}) = {F(free.ItemsPerSecond / two.ItemsPerSecond, "F2")}.");
        md.AppendLine();
        Console.WriteLine(md.ToString().TrimEnd().Split('\n')[^1]);
        return md.ToString();
    }

    /// <summary>
    /// Runs <paramref name="request"/> as a job, again and again, until the node's JIT compiled for less than
    /// <see cref="SettledJitShare"/> of the last <see cref="SettledWindow"/> of them (it comes in bursts: one quiet short
    /// job proves nothing), or <paramref name="bound"/> has passed.
    /// </summary>
    private static async Task<(int Jobs, double Seconds, double LastJitShare)> WarmUpAsync(ControlPlaneJobs jobs, SubmitJobRequest request, TimeSpan bound)
    {
        var clock = Stopwatch.StartNew();
        var ends = new List<(TimeSpan At, double JitMilliseconds)> { (TimeSpan.Zero, jobs.Node.JitMilliseconds) };
        double share;
        do
        {
            await jobs.FollowAsync(await jobs.SubmitAsync(request), ControlPlaneJobs.IsDone, TimeSpan.FromMinutes(5));
            await Task.Delay(250); // the node reports its JIT time every 200 ms
            var end = (At: clock.Elapsed, JitMilliseconds: jobs.Node.JitMilliseconds);
            ends.Add(end);
            var from = ends.FindLastIndex(e => end.At - e.At >= SettledWindow);
            share = from < 0 ? double.NaN : (end.JitMilliseconds - ends[from].JitMilliseconds) / (end.At - ends[from].At).TotalMilliseconds;
            Console.WriteLine($"   warm-up job {ends.Count - 1}: done at {end.At.TotalSeconds:F1} s, JIT {100 * share:F1} % of the last {SettledWindow.TotalSeconds:0} s or more");
        } while (!(share < SettledJitShare) && clock.Elapsed < bound);
        return (ends.Count - 1, clock.Elapsed.TotalSeconds, share);
    }

    /// <summary>Items per second and node CPU cores between the samples at 10 % and at 90 % of the items (the steady part).</summary>
    private static (double ItemsPerSecond, double Cpu, double JitShare) SteadyRate(IReadOnlyList<JobSample> samples)
    {
        var total = samples[^1].ItemsTotal;
        var first = samples.FirstOrDefault(s => s.ItemsDone >= total / 10) ?? samples[0];
        var last = samples.LastOrDefault(s => s.ItemsDone <= total * 9 / 10 && s.Seconds > first.Seconds) ?? samples[^1];
        if (last.Seconds <= first.Seconds) (first, last) = (samples[0], samples[^1]);
        var seconds = last.Seconds - first.Seconds;
        return seconds <= 0
            ? (double.NaN, double.NaN, double.NaN)
            : ((last.ItemsDone - first.ItemsDone) / seconds, (last.CpuSeconds - first.CpuSeconds) / seconds,
                (last.JitMilliseconds - first.JitMilliseconds) / 1000 / seconds);
    }

    // ---------------------------------------------------------------- memory

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    private static async Task<string> MemoryAsync(string home, Sizes sizes)
    {
        Console.WriteLine($"== memory: RISE jobs of {string.Join(", ", sizes.MemoryItems.Select(N))} items, coordinator and worker in two processes");
        var md = new StringBuilder();
        md.AppendLine("### Coordinator memory and journal rows by job size");
        md.AppendLine();
        md.AppendLine("Two processes: the coordinator (gateway and coordinator roles, the SQLite file) and a worker node with 2 worker actors, " +
                      "so the RSS is the coordinator's alone. A fresh pair per job. The job is RISE on the model's own 8×8 input (items of 32 " +
                      "masks that cost the worker next to nothing, as in the throughput table's last row), so that even 10⁶ items finish. " +
                      "`RSS idle` is before the upload; `RSS at 10 %` when a tenth " +
                      "of the items done so far were done; `RSS end` at the last item done (or at the time bound); `growth` is " +
                      "end − at 10 %, and `growth / 10⁴ items` the same per 10,000 items done between the two. `held by design KB` is what the job entity must hold for this job: RISE folds " +
                      "each scored prefix into its maps' sums (IScoreFold), so one target's 8×8 sums in double and one mask, whatever the item count; the " +
                      "items scored ahead of the first missing one come on top, at most the leases in flight (256 items × 32 scores × 4 B = 32 KB). " +
                      "Before the fold it held the score buffer, perturbations × targets float32: 122 MB at 10⁶ items. " +
                      "Journal rows are counted in the SQLite file at the end (`journal`: events; `snapshot`: snapshots).");
        md.AppendLine();
        md.AppendLine("| items asked | image | items total | items done | complete | seconds | items/s | coordinator RSS idle MB | RSS at 10 % MB | RSS end MB | peak MB | growth MB | growth / 10⁴ items MB | held by design KB | journal rows | snapshot rows | worker peak RSS MB |");
        md.AppendLine("|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (var i = 0; i < sizes.MemoryItems.Length; i++)
        {
            var items = sizes.MemoryItems[i];
            var bound = TimeSpan.FromSeconds(sizes.MemoryBoundSeconds[i]);
            var database = NewDatabase(home, $"memory-{items}");
            var port = FreePort();
            var seed = $"akka.tcp://lantern@127.0.0.1:{port}";
            await using var coordinator = await BenchNode.StartAsync(new NodeSpec
            {
                Database = database, Roles = "gateway,coordinator", ClusterPort = port, Seeds = seed,
            });
            await using var worker = await BenchNode.StartAsync(new NodeSpec
            {
                Database = Path.Combine(Path.GetDirectoryName(database)!, "worker-unused.db"), Roles = "worker", Seeds = seed, Workers = 2,
            });
            var jobs = new ControlPlaneJobs(coordinator);
            var idle = coordinator.RssMb;
            var request = await jobs.PrepareRiseAsync(items, ItemSize);
            coordinator.RestartPeak();
            worker.RestartPeak();
            var id = await jobs.SubmitAsync(request);
            var samples = await jobs.FollowAsync(id, ControlPlaneJobs.IsDone, bound);
            var rows = Journal.Rows(database);
            var last = samples[^1];
            var atTenth = samples.FirstOrDefault(s => s.ItemsDone >= last.ItemsDone / 10 && s.ItemsDone > 0) ?? samples[0];
            var growth = last.ItemsDone > atTenth.ItemsDone ? (last.RssMb - atTenth.RssMb) * 10_000 / (last.ItemsDone - atTenth.ItemsDone) : double.NaN;
            var byDesign = (TinyModel.InputSize * TinyModel.InputSize * (sizeof(double) + sizeof(float))) / 1024.0; // one target's sums, one mask
            var complete = last.State == JobState.Done;
            var started = samples.FirstOrDefault(s => s.ItemsDone > 0) ?? samples[0];
            var rate = last.Seconds > started.Seconds ? (last.ItemsDone - started.ItemsDone) / (last.Seconds - started.Seconds) : double.NaN;
            var line = $"| {N(items)} | {TinyModel.InputSize}² | {N(last.ItemsTotal)} | {N(last.ItemsDone)} | {(complete ? "yes" : $"no: stopped after {bound.TotalSeconds:0} s")} | " +
                       $"{F(last.Seconds)} | {F(rate, "F0")} | {F(idle, "F0")} | {F(atTenth.RssMb, "F0")} | {F(last.RssMb, "F0")} | {F(coordinator.PeakRssMb, "F0")} | " +
                       $"{F(last.RssMb - atTenth.RssMb, "F0")} | {F(growth, "F1")} | {F(byDesign, "F2")} | {N(Journal.Events(rows))} | {N(Journal.Snapshots(rows))} | {F(worker.PeakRssMb, "F0")} |";
            Console.WriteLine(line);
            md.AppendLine(line);
            if (!complete)
            {
                try
                {
                    await coordinator.Client.Api.CancelJobAsync(new CancelJobRequest { JobId = id });
                }
                catch (RpcException)
                {
                    // the node is stopped next anyway
                }
            }
        }
        md.AppendLine();
        return md.ToString();
    }

    // ---------------------------------------------------------------- recovery

    private static async Task<string> RecoveryAsync(string home, Sizes sizes)
    {
        Console.WriteLine($"== recovery: a RISE job of {N(sizes.RecoveryItems)} items killed at half-way, snapshots off and every {DefaultSnapshotEvery} items");
        var md = new StringBuilder();
        md.AppendLine("### Recovery after a kill at half-way");
        md.AppendLine();
        md.AppendLine($"One node (all roles, 2 worker actors) runs a RISE job of {N(sizes.RecoveryItems)} items (as in the memory table); at half its items it is killed " +
                      "(SIGKILL, no shutdown), and a new node starts on the same SQLite file. `serving s`: spawn to the new node serving gRPC " +
                      "(process start, cluster formed). `restored s`: spawn to GetJob answering Running with its items (the entity replayed " +
                      "its journal; GetJob is asked every 100 ms from serving on, and its ask wakes the entity if nothing else has). " +
                      "`progress s`: spawn to the job counting an item more than it restored. Journal rows at the kill.");
        md.AppendLine();
        md.AppendLine("| SnapshotEveryItems | items total | items done at kill | journal rows | snapshot rows | items restored | serving s | restored s | progress s | replay s (restored − serving) |");
        md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        var replay = new List<double>();
        foreach (var snapshotEvery in new[] { 0, DefaultSnapshotEvery })
        {
            var database = NewDatabase(home, $"recovery-{snapshotEvery}");
            var spec = new NodeSpec { Database = database, Workers = 2, SnapshotEveryItems = snapshotEvery };
            string id;
            long killedAt;
            var first = await BenchNode.StartAsync(spec);
            await using (first)
            {
                var jobs = new ControlPlaneJobs(first);
                id = await jobs.SubmitAsync(await jobs.PrepareRiseAsync(sizes.RecoveryItems, ItemSize));
                var samples = await jobs.FollowAsync(id, p => p.ItemsTotal > 0 && p.ItemsDone * 2 >= p.ItemsTotal, TimeSpan.FromMinutes(10));
                killedAt = samples[^1].ItemsDone;
                first.Kill();
            }
            var rows = Journal.Rows(database);
            await using var second = await BenchNode.StartAsync(spec);
            var again = new ControlPlaneJobs(second);
            double restoredAt = double.NaN, progressAt = double.NaN;
            long restored = 0, total = 0;
            var bound = Stopwatch.StartNew();
            while (bound.Elapsed < TimeSpan.FromMinutes(15))
            {
                try
                {
                    var progress = await again.GetAsync(id, TimeSpan.FromSeconds(60));
                    total = progress.ItemsTotal;
                    if (double.IsNaN(restoredAt) && progress.State == JobState.Running && progress.ItemsDone > 0)
                    {
                        restoredAt = second.Started.Elapsed.TotalSeconds;
                        restored = progress.ItemsDone;
                    }
                    else if (!double.IsNaN(restoredAt) && progress.ItemsDone > restored)
                    {
                        progressAt = second.Started.Elapsed.TotalSeconds;
                        break;
                    }
                    if (progress.State is JobState.Done or JobState.Failed or JobState.Cancelled) break;
                }
                catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.NotFound)
                {
                    // replaying, or not up yet: ask again
                }
                await Task.Delay(100);
            }
            var line = $"| {snapshotEvery} | {N(total)} | {N(killedAt)} | {N(Journal.Events(rows))} | {N(Journal.Snapshots(rows))} | {N(restored)} | " +
                       $"{F(second.SecondsToServing, "F2")} | {F(restoredAt, "F2")} | {F(progressAt, "F2")} | {F(restoredAt - second.SecondsToServing, "F2")} |";
            Console.WriteLine(line);
            md.AppendLine(line);
            replay.Add(restoredAt - second.SecondsToServing);
        }
        md.AppendLine();
        md.AppendLine($"Ratio in this run: replay with snapshots every {DefaultSnapshotEvery} items ÷ without = {F(replay[1] / replay[0], "F2")}.");
        md.AppendLine();
        return md.ToString();
    }

    // ---------------------------------------------------------------- ListJobs

    private static async Task<string> ListJobsAsync(string home, Sizes sizes)
    {
        Console.WriteLine($"== ListJobs with {string.Join(", ", sizes.ListCounts.Select(c => N(c)))} finished jobs");
        var md = new StringBuilder();
        md.AppendLine("### ListJobs latency by finished jobs in the journal");
        md.AppendLine();
        md.AppendLine("One node (all roles, 2 worker actors); finished jobs are tiny (an 8×8 image: 64 perturbations, 2 work items and the " +
                      "baseline) submitted 8 at a time over gRPC, then waited for. `ListJobs` is called with a default request (the page " +
                      "size the server chooses); when it answers with a next page token the run pages on, and `all pages` is the time " +
                      "to list every job. `first`: the first call after the jobs finished; `median of 3`: three calls after it. " +
                      "`after restart`: the node stopped gracefully and started again on the same file (job entities asleep), first call.");
        md.AppendLine();
        md.AppendLine("| finished jobs | create s | jobs/s | first page ms | jobs on the first page | all pages ms (first) | all pages ms (median of 3) | jobs listed | after restart: all pages ms | journal rows |");
        md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        var database = NewDatabase(home, "listjobs");
        var spec = new NodeSpec { Database = database, Workers = 2 };
        var node = await BenchNode.StartAsync(spec);
        try
        {
            var jobs = new ControlPlaneJobs(node);
            var tiny = await jobs.PrepareAsync(TinyModel.InputSize);
            tiny.NoCache = false; // identical finished jobs may be answered from the first one: cheaper, and still finished jobs
            var created = 0;
            foreach (var count in sizes.ListCounts)
            {
                var clock = Stopwatch.StartNew();
                var ids = await jobs.SubmitManyAsync(tiny, count - created);
                await jobs.WaitAllDoneAsync(ids, TimeSpan.FromMinutes(20));
                var createSeconds = clock.Elapsed.TotalSeconds;
                var rate = (count - created) / createSeconds;
                created = count;
                var (firstPage, onFirstPage, allFirst, listed) = await ListAllAsync(node);
                var medians = new List<double>();
                for (var i = 0; i < 3; i++) medians.Add((await ListAllAsync(node)).AllMs);
                medians.Sort();
                var restartMs = double.NaN;
                if (count == sizes.ListCounts[^1])
                {
                    await node.DisposeAsync();
                    node = await BenchNode.StartAsync(spec);
                    restartMs = (await ListAllAsync(node)).AllMs;
                }
                var rows = Journal.Rows(database);
                var line = $"| {N(count)} | {F(createSeconds)} | {F(rate, "F0")} | {F(firstPage, "F0")} | {N(onFirstPage)} | {F(allFirst, "F0")} | " +
                           $"{F(medians[1], "F0")} | {N(listed)} | {(double.IsNaN(restartMs) ? "-" : F(restartMs, "F0"))} | {N(Journal.Events(rows))} |";
                Console.WriteLine(line);
                md.AppendLine(line);
            }
        }
        finally
        {
            await node.DisposeAsync();
        }
        md.AppendLine();
        return md.ToString();
    }

    /// <summary>Lists every job, page after page: the first page's time and size, the whole listing's time and size.</summary>
    private static async Task<(double FirstPageMs, int OnFirstPage, double AllMs, long Listed)> ListAllAsync(BenchNode node)
    {
        var clock = Stopwatch.StartNew();
        double firstPage = double.NaN;
        var onFirstPage = 0;
        long listed = 0;
        var request = new ListJobsRequest();
        while (true)
        {
            var response = await node.Client.Api.ListJobsAsync(request, deadline: DateTime.UtcNow.AddMinutes(10));
            if (double.IsNaN(firstPage))
            {
                firstPage = clock.Elapsed.TotalMilliseconds;
                onFirstPage = response.Jobs.Count;
            }
            listed += response.Jobs.Count;
            if (string.IsNullOrEmpty(response.NextPageToken)) break;
            request = new ListJobsRequest { PageToken = response.NextPageToken };
        }
        return (firstPage, onFirstPage, clock.Elapsed.TotalMilliseconds, listed);
    }
}
