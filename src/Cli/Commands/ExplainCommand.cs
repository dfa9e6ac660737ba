using System.CommandLine;
using System.Diagnostics;
using Lantern.Cli.Client;
using Lantern.Contracts.Api;
using Lantern.Host;
using Lantern.Worker.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace Lantern.Cli.Commands;

/// <summary>
/// <c>lantern explain IMAGE --model MODEL …</c>: by default starts a one-node cluster in this process (gateway,
/// coordinator and worker over a SQLite file) and runs the job through its gRPC API; with --gateway, runs it on a
/// running cluster instead. Either way the same client code path.
/// </summary>
public static class ExplainCommand
{
    public static Command Create()
    {
        var options = new ExplainOptions();
        var node = new NodeSettings();
        var gateway = new Option<string?>("--gateway") { Description = "Run on this cluster (http://host:port) instead of in-process" };
        var command = new Command("explain", "Explain a model's prediction on an image");
        options.AddTo(command);
        node.AddTo(command);
        command.Options.Add(gateway);

        command.SetAction(async (parsed, cancellationToken) =>
        {
            ExplainRequest request;
            WorkerOptions worker;
            try
            {
                request = options.ToRequest(parsed);
                worker = node.Worker(parsed);
            }
            catch (Exception e) when (e is ArgumentException or Models.InvalidModelException or IOException)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
                return 2;
            }

            var stopwatch = Stopwatch.StartNew();
            WebApplication? local = null;
            try
            {
                Uri address;
                if (parsed.GetValue(gateway) is { } remote)
                {
                    address = new Uri(remote);
                }
                else
                {
                    local = LanternNode.Build(new NodeOptions
                    {
                        DatabasePath = parsed.GetValue(node.Database)!,
                        PostgresConnectionString = parsed.GetValue(node.Postgres), GrpcPort = 0, LogLevel = LogLevel.Warning,
                        Worker = worker,
                    });
                    await local.StartAsync(cancellationToken);
                    address = LanternNode.GrpcAddress(local);
                }
                var result = await RunAsync(address, request, cancellationToken);
                Report(result, ResultWriter.Write(result, request.OutputDirectory), stopwatch.Elapsed);
                return 0;
            }
            catch (Grpc.Core.RpcException e)
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
                if (local is not null)
                {
                    await local.StopAsync(CancellationToken.None);
                    await local.DisposeAsync();
                }
            }
        });
        return command;
    }

    private static async Task<JobResult> RunAsync(Uri address, ExplainRequest request, CancellationToken cancellationToken)
    {
        using var client = ExplainClient.Connect(address);
        var model = await File.ReadAllBytesAsync(request.ModelPath, cancellationToken);
        var image = await File.ReadAllBytesAsync(request.ImagePath, cancellationToken);
        if (request.TwinPath is { } twin)
            request.Submit.Gradient.TwinModelSha256 =
                (await client.UploadModelAsync(await File.ReadAllBytesAsync(twin, cancellationToken), Path.GetFileName(twin), cancellationToken)).Sha256;
        JobResult? result = null;
        await AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask($"{request.Submit.MethodCase.ToString().ToLowerInvariant()} {Path.GetFileName(request.ImagePath)}");
                result = await client.RunAsync(request.Submit, model, Path.GetFileName(request.ModelPath), image,
                    Path.GetFileName(request.ImagePath), progress =>
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
        AnsiConsole.MarkupLineInterpolated($"explained class(es) {string.Join(", ", result.Targets)} with {result.Progress.Evaluations} model evaluations in {elapsed.TotalSeconds:0.0} s");
        foreach (var file in files) AnsiConsole.MarkupLineInterpolated($"  wrote {file}");
    }
}
