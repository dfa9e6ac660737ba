using System.CommandLine;
using Lantern.Cli.Client;
using Lantern.Contracts.Api;
using Spectre.Console;

namespace Lantern.Cli.Commands;

/// <summary><c>lantern result ID --out DIR</c>: a finished job's files, the same ones <c>lantern explain</c> writes.</summary>
public static class ResultCommand
{
    public static Command Create()
    {
        var gateway = new GatewaySettings();
        var pictures = new PictureOptions();
        var id = new Argument<string>("id") { Description = "The job id" };
        var output = new Option<string>("--out") { DefaultValueFactory = _ => "lantern-out", Description = "Directory for summary.json, map-*.npy, overlay-*.png" };
        var command = new Command("result", "Fetch a finished job's maps, overlays and summary into a directory");
        command.Arguments.Add(id);
        command.Options.Add(output);
        gateway.AddTo(command);
        pictures.AddTo(command);
        command.SetAction((parsed, ct) => JobsCommand.RunAsync(gateway, parsed, async api =>
        {
            var result = await api.GetResultAsync(new GetResultRequest { JobId = parsed.GetValue(id)!, IncludeOverlays = true, OverlayStyle = pictures.Style(parsed) },
                cancellationToken: ct);
            foreach (var file in ResultWriter.Write(result, parsed.GetValue(output)!))
                AnsiConsole.MarkupLineInterpolated($"  wrote {file}");
            return 0;
        }));
        return command;
    }
}
