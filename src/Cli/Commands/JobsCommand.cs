using System.CommandLine;
using System.Globalization;
using Google.Protobuf;
using Grpc.Core;
using Lantern.Cli.Client;
using Lantern.Contracts.Api;
using Spectre.Console;

namespace Lantern.Cli.Commands;

/// <summary>
/// <c>lantern jobs list|show|watch|cancel|rm</c>: the jobs of a running cluster, whoever submitted them (the CLI, the
/// Python client, the web viewer), through the public gRPC API with the caller's key.
/// </summary>
public static class JobsCommand
{
    public static Command Create()
    {
        var jobs = new Command("jobs", "List, follow, cancel and remove the jobs of a running cluster");
        jobs.Subcommands.Add(List());
        jobs.Subcommands.Add(WithId("show", "Show one job's state, progress and parameters", Show));
        jobs.Subcommands.Add(WithId("watch", "Follow a job's progress until it ends", Watch));
        jobs.Subcommands.Add(WithId("cancel", "Cancel a job", async (api, id, _, ct) =>
        {
            var progress = await api.CancelJobAsync(new CancelJobRequest { JobId = id }, cancellationToken: ct);
            AnsiConsole.MarkupLineInterpolated($"job {id}: {State(progress.State)}");
            return 0;
        }));
        jobs.Subcommands.Add(WithId("rm", "Remove a job and its results (a running job is cancelled first)", async (api, id, _, ct) =>
        {
            await api.DeleteJobAsync(new DeleteJobRequest { JobId = id }, cancellationToken: ct);
            AnsiConsole.MarkupLineInterpolated($"removed job {id}");
            return 0;
        }));
        return jobs;
    }

    private static Command List()
    {
        var gateway = new GatewaySettings();
        var states = new Option<string?>("--state") { Description = "Only jobs in these states: queued, running, done, failed, cancelled (comma-separated)" };
        var owner = new Option<string?>("--owner") { Description = "Only this user's jobs" };
        var model = new Option<string?>("--model") { Description = "Only jobs of this model (SHA-256)" };
        var pageSize = new Option<int>("--page-size") { DefaultValueFactory = _ => 50, Description = "Jobs per page (at most 1000)" };
        var pageToken = new Option<string?>("--page-token") { Description = "Continue from the token a previous page printed" };
        var all = new Option<bool>("--all") { Description = "Follow every page" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object per job (JobProgress) instead of a table" };
        var command = new Command("list", "List the jobs you may see, newest first");
        gateway.AddTo(command);
        foreach (var option in new Option[] { states, owner, model, pageSize, pageToken, all, json }) command.Options.Add(option);
        command.SetAction((parsed, ct) => RunAsync(gateway, parsed, async api =>
        {
            var request = new ListJobsRequest
            {
                PageSize = parsed.GetValue(pageSize), PageToken = parsed.GetValue(pageToken) ?? "",
                Owner = parsed.GetValue(owner) ?? "", ModelSha256 = parsed.GetValue(model) ?? "",
            };
            if (parsed.GetValue(states) is { } names) request.States.Add(names.Split(',').Select(ParseState));
            var table = new Table().AddColumns("id", "state", "progress", "method", "name", "owner", "submitted");
            var count = 0;
            while (true)
            {
                var page = await api.ListJobsAsync(request, cancellationToken: ct);
                foreach (var job in page.Jobs)
                {
                    count++;
                    if (parsed.GetValue(json)) Console.Out.WriteLine(JsonFormatter.Default.Format(job));
                    else
                        table.AddRow(Markup.Escape(job.JobId), State(job.State), Percent(job), Markup.Escape(job.Method), Markup.Escape(job.Name),
                            Markup.Escape(job.Owner), Time(job.SubmittedUnixMs));
                }
                if (page.NextPageToken.Length == 0 || !parsed.GetValue(all))
                {
                    if (!parsed.GetValue(json))
                    {
                        AnsiConsole.Write(table);
                        AnsiConsole.MarkupLineInterpolated($"{count} job(s)");
                        if (page.NextPageToken.Length > 0)
                            AnsiConsole.MarkupLineInterpolated($"more: lantern jobs list --page-token {page.NextPageToken} (or --all)");
                    }
                    return 0;
                }
                request.PageToken = page.NextPageToken;
            }
        }));
        return command;
    }

    private static async Task<int> Show(Contracts.Api.Lantern.LanternClient api, string id, ParseResult parsed, CancellationToken ct)
    {
        var job = await api.GetJobAsync(new GetJobRequest { JobId = id }, cancellationToken: ct);
        var grid = new Grid().AddColumn().AddColumn();
        void Row(string name, string value) => grid.AddRow(new Text(name), new Text(value));
        Row("id", job.JobId);
        Row("name", job.Name);
        Row("state", job.State.ToString().ToLowerInvariant() + (job.Error.Length > 0 ? $": {job.Error}" : ""));
        Row("method", job.Method);
        Row("progress", $"{job.ItemsDone}/{job.ItemsTotal} work items, {job.Evaluations}/{job.EvaluationsTotal} evaluations ({Percent(job)})");
        if (job.HasSecondsLeft) Row("time left", $"{job.SecondsLeft:0} s at {job.EvaluationsPerSecond:0.0} evaluations/s");
        Row("model", job.ModelSha256);
        Row("image", job.ImageSha256);
        Row("owner", job.Owner + (job.Team.Length > 0 ? $" (team {job.Team})" : ""));
        Row("submitted", Time(job.SubmittedUnixMs));
        if (job.FinishedUnixMs > 0) Row("finished", Time(job.FinishedUnixMs));
        AnsiConsole.Write(grid);
        if (job.State == JobState.Done)
        {
            var result = await api.GetResultAsync(new GetResultRequest { JobId = id }, cancellationToken: ct);
            var table = new Table().AddColumns("class", "label", "score");
            foreach (var top in result.TopClasses)
                table.AddRow(top.ClassIndex.ToString(CultureInfo.InvariantCulture), Markup.Escape(top.Label), top.Score.ToString("0.000", CultureInfo.InvariantCulture));
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLineInterpolated($"explained: {string.Join(", ", result.Targets)}; fetch with: lantern result {id} --out DIR");
        }
        return 0;
    }

    private static async Task<int> Watch(Contracts.Api.Lantern.LanternClient api, string id, ParseResult parsed, CancellationToken ct)
    {
        JobProgress? last = null;
        await AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask($"job {id}");
                using var call = api.WatchJob(new WatchJobRequest { JobId = id }, cancellationToken: ct);
                await foreach (var progress in call.ResponseStream.ReadAllAsync(ct))
                {
                    last = progress;
                    task.MaxValue = Math.Max(1, progress.ItemsTotal);
                    task.Value = progress.ItemsDone;
                    task.Description = $"{progress.Method} {progress.Name} · {State(progress.State)} · {progress.Evaluations} evaluations";
                }
            });
        if (last is null) return 1;
        AnsiConsole.MarkupLineInterpolated($"job {id} {State(last.State)}{(last.Error.Length > 0 ? ": " + last.Error : "")}");
        return last.State == JobState.Done ? 0 : 1;
    }

    private static Command WithId(string name, string description,
        Func<Contracts.Api.Lantern.LanternClient, string, ParseResult, CancellationToken, Task<int>> action)
    {
        var gateway = new GatewaySettings();
        var id = new Argument<string>("id") { Description = "The job id (as submit, explain --detach or jobs list print it)" };
        var command = new Command(name, description);
        command.Arguments.Add(id);
        gateway.AddTo(command);
        command.SetAction((parsed, ct) => RunAsync(gateway, parsed, api => action(api, parsed.GetValue(id)!, parsed, ct)));
        return command;
    }

    /// <summary>Connects, runs, and turns a gRPC status or a bad option into a message and an exit code (1, resp. 2).</summary>
    internal static async Task<int> RunAsync(GatewaySettings gateway, ParseResult parsed, Func<Contracts.Api.Lantern.LanternClient, Task<int>> action)
    {
        try
        {
            using var connection = gateway.Connect(parsed);
            return await action(connection.Api);
        }
        catch (RpcException e)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]error ({e.StatusCode}):[/] {e.Status.Detail}");
            return 1;
        }
        catch (ArgumentException e)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
            return 2;
        }
    }

    private static JobState ParseState(string name) =>
        Enum.TryParse<JobState>(name.Trim(), ignoreCase: true, out var state) && state != JobState.Unspecified
            ? state
            : throw new ArgumentException($"--state '{name}' is not one of: queued, running, done, failed, cancelled");

    private static string State(JobState state) => state switch
    {
        JobState.Done => "[green]done[/]",
        JobState.Failed => "[red]failed[/]",
        JobState.Cancelled => "[yellow]cancelled[/]",
        _ => state.ToString().ToLowerInvariant(),
    };

    private static string Percent(JobProgress job) =>
        job.ItemsTotal > 0 ? $"{100.0 * job.ItemsDone / job.ItemsTotal:0}%" : "-";

    private static string Time(long unixMs) => unixMs > 0
        ? DateTimeOffset.FromUnixTimeMilliseconds(unixMs).ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)
        : "";
}
