using System.CommandLine;
using System.Globalization;
using Lantern.Cli.Client;
using Lantern.Cli.Datasets;
using Lantern.Cli.Local;
using Lantern.Contracts.Api;
using Lantern.Host;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace Lantern.Cli.Commands;

/// <summary>
/// <c>lantern datasets create|list|show|rm</c>: a team's named, versioned lists of uploaded images with optional labels,
/// on a Lantern gateway. Creating a dataset again with other files or labels makes its next version; with the same ones
/// it changes nothing and uploads nothing.
/// </summary>
public static class DatasetsCommand
{
    public static Command Create()
    {
        var gateway = new Option<string?>("--gateway")
        {
            DefaultValueFactory = _ => NodeSettings.Env("LANTERN_GATEWAY"),
            Description = "The Lantern gateway, http://host:port (env LANTERN_GATEWAY); without it, the local node on --db",
            Recursive = true,
        };
        var apiKey = new Option<string?>("--api-key")
        {
            DefaultValueFactory = _ => NodeSettings.Env("LANTERN_API_KEY"),
            Description = "Your API key, sent as authorization: Bearer KEY (env LANTERN_API_KEY)",
            Recursive = true,
        };
        // Without --gateway, the datasets are those of the local node on --db (or --postgres), the one `lantern explain` uses.
        var node = new NodeSettings();
        node.Database.Recursive = true;
        node.Postgres.Recursive = true;
        var connection = new Connection(gateway, apiKey, node);
        var command = new Command("datasets", "Named, versioned lists of images with optional labels: create, list, show and remove them")
        {
            CreateDataset(connection), List(connection), Show(connection), Remove(connection),
        };
        command.Options.Add(gateway);
        command.Options.Add(apiKey);
        command.Options.Add(node.Database);
        command.Options.Add(node.Postgres);
        // The worker settings are read from LANTERN_* as explain reads them, so both find the same background node; they
        // do not matter to datasets, so they stay out of the help.
        foreach (var option in new Option[] { node.Provider, node.MaxBatch, node.Batch, node.BatchSweep, node.Capacity, node.Workers,
                     node.IntraOpThreads, node.NoPipeline, node.ForcePipeline })
        {
            option.Hidden = true;
            option.Recursive = true;
            command.Options.Add(option);
        }
        return command;
    }

    private static Command CreateDataset(Connection gateway)
    {
        var name = new Argument<string>("name") { Description = "Dataset name (letters, digits, . _ -)" };
        var source = new Argument<string>("dir-or-glob")
        {
            Description = "A directory (its JPEG, PNG, BMP, GIF and WebP files) or a pattern such as photos/*.jpg",
        };
        var labels = new Option<string?>("--labels") { Description = "CSV of 'file name,label' rows; files it does not name are unlabelled" };
        var command = new Command("create", "Upload the images the cluster does not hold yet and record them as the dataset's next version")
        {
            name, source, labels,
        };
        command.SetAction((parsed, cancellationToken) => RunAsync(parsed, gateway, async client =>
        {
            var files = DatasetSource.Files(parsed.GetValue(source)!);
            var fileNames = files.Select(f => Path.GetFileName(f)).ToList();
            var labelled = parsed.GetValue(labels) is { } csv ? DatasetSource.ReadLabels(csv, fileNames) : new Dictionary<string, string>();

            IReadOnlyList<string> hashes = [];
            var uploaded = 0;
            await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .StartAsync(async context =>
                {
                    var task = context.AddTask($"0/{files.Count:N0} images", maxValue: files.Count);
                    var shown = 0;
                    (hashes, uploaded) = await DatasetUpload.UploadAsync(client, files, (done, all) =>
                    {
                        lock (task)
                        {
                            if (done < shown) return; // uploads finish on several threads: never step back
                            shown = done;
                            task.Value = done;
                            task.Description = $"{done:N0}/{all:N0} images";
                        }
                    }, cancellationToken);
                });

            var request = new CreateDatasetRequest { Name = parsed.GetValue(name)! };
            for (var i = 0; i < files.Count; i++)
                request.Entries.Add(new DatasetEntry
                {
                    ImageSha256 = hashes[i], FileName = fileNames[i], Label = labelled.GetValueOrDefault(fileNames[i], ""),
                });
            var dataset = await client.Datasets.CreateDatasetAsync(request, cancellationToken: cancellationToken);
            var sent = $"{uploaded:N0} uploaded, {files.Count - uploaded:N0} already held";
            if (dataset.Created)
                AnsiConsole.MarkupLineInterpolated(
                    $"created [bold]{dataset.Name}:{dataset.Version}[/]: {dataset.ImageCount:N0} images, {dataset.LabelledCount:N0} labelled ({sent})");
            else
                AnsiConsole.MarkupLineInterpolated(
                    $"[bold]{dataset.Name}:{dataset.Version}[/] already has these images and labels: unchanged ({sent})");
        }));
        return command;
    }

    private static Command List(Connection gateway)
    {
        var command = new Command("list", "Your team's datasets, every version");
        command.SetAction((parsed, cancellationToken) => RunAsync(parsed, gateway, async client =>
        {
            var datasets = await client.Datasets.ListDatasetsAsync(new ListDatasetsRequest(), cancellationToken: cancellationToken);
            var table = new Table().AddColumns("dataset", "images", "labelled", "created (UTC)", "by", "content");
            foreach (var d in datasets.Datasets)
                table.AddRow(Markup.Escape($"{d.Name}:{d.Version}"), d.ImageCount.ToString("N0"), d.LabelledCount.ToString("N0"),
                    Created(d), Markup.Escape(d.CreatedBy), d.ContentSha256[..12]);
            AnsiConsole.Write(table);
        }));
        return command;
    }

    private static Command Show(Connection gateway)
    {
        var reference = new Argument<string>("dataset") { Description = "name (the latest version) or name:version" };
        var command = new Command("show", "A dataset's images in order, with their labels") { reference };
        command.SetAction((parsed, cancellationToken) => RunAsync(parsed, gateway, async client =>
        {
            var request = new GetDatasetRequest { Dataset = parsed.GetValue(reference)! };
            var page = await client.Datasets.GetDatasetAsync(request, cancellationToken: cancellationToken);
            AnsiConsole.MarkupLineInterpolated(
                $"[bold]{page.Name}:{page.Version}[/]  {page.ImageCount:N0} images, {page.LabelledCount:N0} labelled, created {Created(page)} UTC by {page.CreatedBy}");
            var table = new Table().AddColumns("#", "file", "label", "sha256");
            var index = 0;
            while (true)
            {
                foreach (var entry in page.Entries)
                    table.AddRow((++index).ToString(CultureInfo.InvariantCulture), Markup.Escape(entry.FileName), Markup.Escape(entry.Label),
                        entry.ImageSha256[..12]);
                if (page.NextPageToken.Length == 0) break;
                // The version the first page named, so a create meanwhile does not mix two versions.
                request = new GetDatasetRequest { Dataset = $"{page.Name}:{page.Version}", PageToken = page.NextPageToken };
                page = await client.Datasets.GetDatasetAsync(request, cancellationToken: cancellationToken);
            }
            AnsiConsole.Write(table);
        }));
        return command;
    }

    private static Command Remove(Connection gateway)
    {
        var reference = new Argument<string>("dataset") { Description = "name:version, or name for every version" };
        var command = new Command("rm", "Remove a dataset version, or every version (the images stay uploaded)") { reference };
        command.SetAction((parsed, cancellationToken) => RunAsync(parsed, gateway, async client =>
        {
            var removed = await client.Datasets.DeleteDatasetAsync(new DeleteDatasetRequest { Dataset = parsed.GetValue(reference)! },
                cancellationToken: cancellationToken);
            AnsiConsole.MarkupLineInterpolated($"removed {parsed.GetValue(reference)} ({removed.VersionsRemoved} version{(removed.VersionsRemoved == 1 ? "" : "s")})");
        }));
        return command;
    }

    private static string Created(Dataset d) =>
        DateTimeOffset.FromUnixTimeMilliseconds(d.CreatedUnixMs).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    /// <summary>The gateway and the caller's key, or the local node's database: options of <c>datasets</c> that every subcommand takes.</summary>
    private sealed record Connection(Option<string?> Gateway, Option<string?> ApiKey, NodeSettings Node);

    /// <returns>0; 1 when the gateway refused (the gRPC status is shown); 2 for a bad argument or an unreadable file.</returns>
    private static async Task<int> RunAsync(ParseResult parsed, Connection connection, Func<ExplainClient, Task> action)
    {
        try
        {
            if (parsed.GetValue(connection.Gateway) is { } gateway)
            {
                using var client = ExplainClient.Connect(new Uri(gateway), parsed.GetValue(connection.ApiKey));
                await action(client);
            }
            else
                await OnLocalNodeAsync(parsed, connection.Node, action);
            return 0;
        }
        catch (Grpc.Core.RpcException e)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]error ({e.StatusCode}):[/] {e.Status.Detail}");
            return 1;
        }
        catch (Exception e) when (e is ArgumentException or IOException or UriFormatException or UnauthorizedAccessException)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
            return 2;
        }
    }

    /// <summary>
    /// As <c>lantern explain</c> without --gateway: this user's background local node (started if none runs), or, where no
    /// background node applies (LANTERN_NO_DAEMON=1, a test host), a node in this process on the same database for the
    /// command's duration. Both are open nodes: the datasets are team "".
    /// </summary>
    private static async Task OnLocalNodeAsync(ParseResult parsed, NodeSettings node, Func<ExplainClient, Task> action)
    {
        var options = LocalCommand.Options(node, parsed);
        if (LocalNodeLauncher.Applies(noDaemon: false))
        {
            // The lease keeps the node from stopping for idleness while this command uploads.
            using var lease = await LocalNodeLauncher.AcquireAsync(options, LocalNodeLauncher.IdleTimeoutFromEnvironment(), CancellationToken.None);
            using var client = ExplainClient.Connect(new Uri(lease.Record.Address), lease.Record.Key);
            await action(client);
            return;
        }
        await using var local = LanternNode.Build(options with { LogLevel = LogLevel.Error, LogProvider = false, Embedded = true });
        await local.StartAsync();
        try
        {
            using var client = ExplainClient.Connect(LanternNode.GrpcAddress(local));
            await action(client);
        }
        finally
        {
            await local.StopAsync();
        }
    }
}
