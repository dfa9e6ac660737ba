using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Grpc.Core;
using Lantern.Cli.Client;
using Lantern.Cli.Local;
using Lantern.Contracts.Api;
using Lantern.Host;
using Lantern.Worker.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace Lantern.Cli.Commands;

/// <summary>
/// <c>lantern explain IMAGE --model MODEL …</c>: by default starts a one-node cluster in this process (gateway,
/// coordinator and worker over a SQLite file) and runs the job through its gRPC API; with --gateway, runs it on a
/// running cluster instead. Either way the same client code path. Ctrl-C cancels the job (a second one exits at once).
/// </summary>
public static class ExplainCommand
{
    /// <summary>How long cancelling the job may take after Ctrl-C before the command gives up on it and returns.</summary>
    private static readonly TimeSpan CancelDeadline = TimeSpan.FromSeconds(1);

    /// <summary>How long the in-process node may take to stop after Ctrl-C; the process exits anyway.</summary>
    private static readonly TimeSpan InterruptedStop = TimeSpan.FromMilliseconds(500);

    public static Command Create()
    {
        var options = new ExplainOptions();
        var node = new NodeSettings();
        var clientSettings = new ClientSettings();
        var pictures = new PictureOptions();
        var gateway = new Option<string?>("--gateway") { Description = "Run on this cluster (http://host:port, or https://host:port with --ca-cert) instead of in-process" };
        var detach = new Option<bool>("--detach") { Description = "With --gateway: submit, print the job id and return; the job runs on" };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Show the in-process node's logs (cluster, inference provider, warnings); with the background node, where its log is" };
        var noDaemon = new Option<bool>("--no-daemon")
        {
            Description = "Without --gateway: run the one-node cluster inside this command, not in the background node that later commands reuse (env LANTERN_NO_DAEMON=1)",
        };
        var command = new Command("explain", "Explain a model's prediction on an image");
        options.AddTo(command);
        node.AddTo(command);
        clientSettings.AddTo(command);
        pictures.AddTo(command);
        command.Options.Add(gateway);
        command.Options.Add(detach);
        command.Options.Add(verbose);
        command.Options.Add(noDaemon);

        command.SetAction(async (parsed, cancellationToken) =>
        {
            ExplainRequest request;
            WorkerOptions worker;
            try
            {
                request = options.ToRequest(parsed);
                worker = node.Worker(parsed);
                if (parsed.GetValue(detach) && parsed.GetValue(gateway) is null)
                    throw new ArgumentException(
                        "--detach needs --gateway: the in-process cluster stops when this command returns, so a detached job would " +
                        "only resume the next time a local explain starts on the same --db. Start a node with `lantern serve` and " +
                        "pass --gateway http://127.0.0.1:5000");
            }
            catch (Exception e) when (e is ArgumentException or Models.InvalidModelException or IOException)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
                return 2;
            }

            using var secondInterrupt = SecondInterruptExits();
            var stopwatch = Stopwatch.StartNew();
            WebApplication? local = null;
            string? jobId = null;
            ExplainClient? client = null;
            LocalNodeLease? lease = null;
            IReadOnlyList<string> providers = [];
            try
            {
                Uri address;
                string? apiKey = null, caCertificate = null;
                if (parsed.GetValue(gateway) is { } remote)
                {
                    address = new Uri(remote);
                    apiKey = parsed.GetValue(clientSettings.ApiKey);
                    caCertificate = parsed.GetValue(clientSettings.CaCertificate);
                }
                else if (LocalNodeLauncher.Applies(parsed.GetValue(noDaemon)))
                {
                    // This user's background node, started now if none runs: the next command finds it warm.
                    lease = await LocalNodeLauncher.AcquireAsync(LocalCommand.Options(node, parsed), LocalNodeLauncher.IdleTimeoutFromEnvironment(), cancellationToken);
                    address = new Uri(lease.Record.Address);
                    apiKey = lease.Record.Key;
                    providers = lease.Record.Providers;
                    if (parsed.GetValue(verbose))
                        AnsiConsole.MarkupLineInterpolated($"[grey]{(lease.Started ? "started" : "using")} the local node (pid {lease.Record.Pid}) at {address}; its log: {Path.Combine(LocalNodeRecord.StateDirectory(), "node.log")}[/]");
                }
                else
                {
                    var loud = parsed.GetValue(verbose);
                    local = LanternNode.Build(new NodeOptions
                    {
                        DatabasePath = parsed.GetValue(node.Database)!,
                        PostgresConnectionString = parsed.GetValue(node.Postgres), GrpcPort = 0,
                        // Quiet by default: a user sees the progress bar and the result, not the cluster's housekeeping.
                        LogLevel = loud ? LogLevel.Information : LogLevel.Error, LogProvider = loud, Embedded = true,
                        Worker = worker,
                    });
                    await local.StartAsync(cancellationToken);
                    address = LanternNode.GrpcAddress(local);
                }
                client = ExplainClient.Connect(address, apiKey, caCertificate);
                client.OverlayStyle = pictures.Style(parsed);
                client.RankingSize = request.RankingSize;
                client.TsnePerplexity = request.TsnePerplexity;
                client.RankingChannel = request.RankingChannel;
                jobId = await SubmitAsync(client, request, cancellationToken);
                lease?.Dispose(); // submitted: the node may stop for idleness again once this command's calls end
                if (parsed.GetValue(detach))
                {
                    Console.WriteLine(jobId);
                    return 0;
                }
                if (request.Submit.Dataset.Length > 0)
                {
                    var index = await WatchAsync(client, jobId, request, cancellationToken);
                    ReportDataset(index, await DatasetResults.WriteAsync(client, index, request.OutputDirectory, cancellationToken, request.RankingChannel),
                        request.OutputDirectory, stopwatch.Elapsed);
                    return 0;
                }
                var result = await WatchAsync(client, jobId, request, cancellationToken);
                var metrics = request.Metrics?.Any(m => m != RandomizationFollowUp.Name) == true
                    ? await MetricsAsync(client, request, result, cancellationToken)
                    : null;
                IReadOnlyList<(string Name, byte[] Png)> randomization = [];
                if (request.Metrics?.Contains(RandomizationFollowUp.Name) == true)
                    (result.SummaryJson, randomization) = await RandomizationFollowUp.RunAsync(client, request, result,
                        request.RandomizationSteps, async submit =>
                        {
                            var jobId = (await client.Api.SubmitJobAsync(submit, cancellationToken: cancellationToken)).JobId;
                            return await WatchAsync(client, jobId, request with { Submit = submit }, cancellationToken);
                        }, cancellationToken);
                if (local?.Services.GetService<WorkEvaluators>() is { } evaluators) providers = evaluators.Providers;
                if (providers is [var provider, ..])
                    AnsiConsole.MarkupLineInterpolated($"[grey]inference on {provider}[/]");
                var written = ResultWriter.Write(result, request.OutputDirectory).ToList();
                if (metrics is not null) written.AddRange(MetricsFollowUp.Pictures(metrics).Select(p => ResultWriter.WriteFile(request.OutputDirectory, p.Name, p.Png)));
                written.AddRange(randomization.Select(p => ResultWriter.WriteFile(request.OutputDirectory, p.Name, p.Png)));
                Report(result, written, stopwatch.Elapsed);
                return 0;
            }
            catch (Exception e) when (cancellationToken.IsCancellationRequested && e is OperationCanceledException or RpcException)
            {
                return await InterruptedAsync(client, jobId);
            }
            catch (RpcException e)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]error ({e.StatusCode}):[/] {e.Status.Detail}");
                return 1;
            }
            catch (InvalidOperationException e)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
                return 1;
            }
            finally
            {
                lease?.Dispose();
                client?.Dispose();
                if (local is not null)
                {
                    // After Ctrl-C the node gets a moment to stop, no more: the cancellation is persisted already, and a
                    // node that dies mid-stop loses nothing (jobs are event-sourced; SQLite commits are durable).
                    if (cancellationToken.IsCancellationRequested)
                        await Task.WhenAny(local.StopAsync(CancellationToken.None), Task.Delay(InterruptedStop, CancellationToken.None));
                    else
                    {
                        await local.StopAsync(CancellationToken.None);
                        await local.DisposeAsync();
                    }
                }
            }
        });
        return command;
    }

    /// <summary>Ctrl-C: cancel the job (if it was submitted) within <see cref="CancelDeadline"/>, say so, exit 130.</summary>
    private static async Task<int> InterruptedAsync(ExplainClient? client, string? jobId)
    {
        if (client is null || jobId is null)
        {
            AnsiConsole.MarkupLine("[yellow]interrupted[/] before the job was submitted");
            return 130;
        }
        try
        {
            await client.Api.CancelJobAsync(new CancelJobRequest { JobId = jobId }, deadline: DateTime.UtcNow + CancelDeadline);
            AnsiConsole.MarkupLineInterpolated($"[yellow]cancelled[/] job {jobId}");
        }
        catch (RpcException e)
        {
            AnsiConsole.MarkupLineInterpolated($"[yellow]interrupted[/]; job {jobId} could not be cancelled ({e.StatusCode}): cancel it with CancelJob");
        }
        return 130;
    }

    /// <summary>
    /// The first Ctrl-C cancels the command's token (System.CommandLine's handler), the second ends the process there and
    /// then: _exit skips the process-exit handlers (the actor system's shutdown hook among them) that could keep it alive.
    /// </summary>
    private static PosixSignalRegistration? SecondInterruptExits()
    {
        var interrupts = 0;
        try
        {
            return PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
            {
                if (Interlocked.Increment(ref interrupts) < 2) return;
                context.Cancel = true;
                Console.Error.WriteLine();
                Console.Error.WriteLine("interrupted twice: exiting");
                if (OperatingSystem.IsWindows()) Environment.Exit(130);
                else ExitNow(130);
            });
        }
        catch (PlatformNotSupportedException)
        {
            return null;
        }
    }

    [DllImport("libc", EntryPoint = "_exit")]
    private static extern void ExitNow(int status);

    private static async Task<string> SubmitAsync(ExplainClient client, ExplainRequest request, CancellationToken cancellationToken)
    {
        var model = request.ModelPath is null ? null : await File.ReadAllBytesAsync(request.ModelPath, cancellationToken);
        if (request.TwinPath is { } twin)
            request.Submit.Gradient.TwinModelSha256 = (await client.PutAsync(
                [new Upload(await File.ReadAllBytesAsync(twin, cancellationToken), Path.GetFileName(twin), IsModel: true)],
                cancellationToken: cancellationToken)).Sha256[0];
        if (request.Submit.Dataset.Length > 0) // the dataset's images are on the gateway already
        {
            if (model is not null)
                request.Submit.ModelSha256 = (await client.PutAsync([new Upload(model, Path.GetFileName(request.ModelPath!), IsModel: true)],
                    cancellationToken: cancellationToken)).Sha256[0];
            return (await client.Api.SubmitJobAsync(request.Submit, cancellationToken: cancellationToken)).JobId;
        }
        var image = request.ImagePath.Length > 0
            ? await File.ReadAllBytesAsync(request.ImagePath, cancellationToken)
            : GreyCanvas(request.Submit, model);
        return await client.SubmitAsync(request.Submit, model, Path.GetFileName(request.ModelPath ?? ""), image,
            request.ImagePath.Length > 0 ? Path.GetFileName(request.ImagePath) : "grey.png", cancellationToken);
    }

    /// <summary>
    /// A deep dream from noise needs no image (as MATLAB's deepDreamImage): the job's image is then a mid-grey one of the
    /// model's input size, which the dream does not start from; only its size matters.
    /// </summary>
    private static byte[] GreyCanvas(SubmitJobRequest submit, byte[]? model)
    {
        var (height, width) = submit.Preprocessing is { Height: > 0, Width: > 0 } p ? (p.Height, p.Width)
            : model is not null && Lantern.Models.OnnxModelInspector.Inspect(model) is { InputHeight: > 0, InputWidth: > 0 } info
                ? (info.InputHeight, info.InputWidth)
                : throw new InvalidOperationException(model is null
                    ? "a registered model's input size is on the gateway: give an image of that size to dream on"
                    : "the model leaves its input size open: give --input-size HxW (or an image) to dream at");
        return Lantern.Imaging.Figure.Png(Enumerable.Repeat((byte)128, height * width * 3).ToArray(), width, height);
    }

    /// <summary>
    /// --metrics: the metrics job of the finished job's maps, run to its end; its AUCs and curves go into the attribution
    /// result's summary (which the caller then writes), and the metrics job's result is returned for its pictures.
    /// </summary>
    private static async Task<JobResult> MetricsAsync(ExplainClient client, ExplainRequest request, JobResult result, CancellationToken cancellationToken)
    {
        var submit = MetricsFollowUp.Request(request.Submit, result, request.Metrics!, request.MetricSteps);
        var jobId = (await client.Api.SubmitJobAsync(submit, cancellationToken: cancellationToken)).JobId;
        var metrics = await WatchAsync(client, jobId, request with { Submit = submit }, cancellationToken);
        result.SummaryJson = MetricsFollowUp.MergeSummary(result.SummaryJson, metrics);
        return metrics;
    }

    private static async Task<JobResult> WatchAsync(ExplainClient client, string jobId, ExplainRequest request, CancellationToken cancellationToken)
    {
        JobResult? result = null;
        await AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                var subject = request.Submit.Dataset.Length > 0 ? $"dataset {request.Submit.Dataset}"
                    : request.ImagePath.Length > 0 ? Path.GetFileName(request.ImagePath) : "from noise";
                var task = context.AddTask($"{request.Submit.MethodCase.ToString().ToLowerInvariant()} {subject}");
                result = await client.FinishAsync(jobId, progress =>
                {
                    var (value, max) = ProgressText.Bar(progress);
                    task.MaxValue = max;
                    task.Value = value;
                    task.Description = Markup.Escape(ProgressText.Describe(progress));
                }, cancellationToken);
                task.Value = task.MaxValue;
            });
        return result!;
    }

    private static void Report(JobResult result, IReadOnlyList<string> files, TimeSpan elapsed)
    {
        var table = new Table().AddColumns("class", "label", "score");
        foreach (var top in result.TopClasses)
            table.AddRow(top.ClassIndex.ToString(), Markup.Escape(top.Label), top.Score.ToString("0.000"));
        AnsiConsole.Write(table);
        if (ReusedFrom(result) is { } reused)
            AnsiConsole.MarkupLineInterpolated(
                $"explained class(es) {string.Join(", ", result.Targets)} in {elapsed.TotalSeconds:0.0} s from {reused}'s result: the same inputs, nothing computed again (--no-cache computes afresh)");
        else if (result.Progress.Method == Lantern.Methods.Gradients.DeepDreamMethod.MethodName) // one work item per target
            AnsiConsole.MarkupLineInterpolated($"dreamt target(s) {string.Join(", ", result.Targets)} in {elapsed.TotalSeconds:0.0} s (score curves in summary.json)");
        else
            AnsiConsole.MarkupLineInterpolated($"explained class(es) {string.Join(", ", result.Targets)} with {result.Progress.Evaluations} model evaluations in {elapsed.TotalSeconds:0.0} s");
        foreach (var file in files) AnsiConsole.MarkupLineInterpolated($"  wrote {file}");
    }

    private static void ReportDataset(JobResult index, IReadOnlyList<string> files, string directory, TimeSpan elapsed)
    {
        var progress = index.Progress;
        AnsiConsole.MarkupLineInterpolated(
            $"explained {progress.ImagesDone - progress.ImagesFailed} of {progress.ImagesTotal} images of {progress.Dataset} with {progress.Evaluations:N0} model evaluations in {elapsed.TotalSeconds:0.0} s (job {progress.JobId})");
        foreach (var failed in index.Images.Where(i => i.State != JobState.Done))
            AnsiConsole.MarkupLineInterpolated($"  [yellow]{failed.FileName}[/]: {failed.State.ToString().ToLowerInvariant()}: {failed.Error}");
        AnsiConsole.MarkupLineInterpolated($"  wrote {directory}/<image>/ per image");
        foreach (var file in files) AnsiConsole.MarkupLineInterpolated($"  wrote {file}");
    }

    /// <summary>"job ID" or "an earlier job" when the result was reused (summary.json's "reused"), otherwise null.</summary>
    private static string? ReusedFrom(JobResult result)
    {
        if (result.SummaryJson.Length == 0 || System.Text.Json.Nodes.JsonNode.Parse(result.SummaryJson)?["reused"] is not { } reused) return null;
        return reused["job_id"]?.GetValue<string>() is { } id ? $"job {id}" : "an earlier job";
    }
}
