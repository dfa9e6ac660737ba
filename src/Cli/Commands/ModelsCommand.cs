using System.CommandLine;
using Lantern.Cli.Client;
using Lantern.Contracts.Api;
using Lantern.Models;
using Spectre.Console;

namespace Lantern.Cli.Commands;

/// <summary>
/// <c>lantern models push|list|show|rm</c>: the model registry of a Lantern gateway. A registered model is named in jobs as
/// <c>name:version</c>, and its preprocessing and labels then apply.
/// </summary>
public static class ModelsCommand
{
    public static Command Create()
    {
        var gateway = new Option<string?>("--gateway")
        {
            DefaultValueFactory = _ => NodeSettings.Env("LANTERN_GATEWAY"),
            Description = "The Lantern gateway, http://host:port (env LANTERN_GATEWAY)",
            Recursive = true,
        };
        var apiKey = new Option<string?>("--api-key")
        {
            DefaultValueFactory = _ => NodeSettings.Env("LANTERN_API_KEY"),
            Description = "Your API key, sent as authorization: Bearer KEY (env LANTERN_API_KEY)",
            Recursive = true,
        };
        var connection = new Connection(gateway, apiKey);
        var command = new Command("models", "Register models under name:version with their preprocessing and labels, list, show and remove them")
        {
            Push(connection), List(connection), Show(connection), Remove(connection),
        };
        command.Options.Add(gateway);
        command.Options.Add(apiKey);
        return command;
    }

    private static Command Push(Connection gateway)
    {
        var file = new Argument<string>("file") { Description = "ONNX model file" };
        var name = new Option<string>("--name") { Required = true, Description = "Registered name (letters, digits, . _ -)" };
        var version = new Option<string>("--version") { Required = true, Description = "Version, e.g. 1 or 2024-06" };
        var labels = new Option<string?>("--labels") { Description = "Label file, line k = class k (default: the one the descriptor beside the model names)" };
        var preprocessing = new Option<string?>("--preprocessing")
        {
            Description = "Preprocessing as JSON, inline or a .json file, in the descriptor format (samples/squeezenet1.0.json); " +
                          "default: the descriptor beside the model (name.json), else the ImageNet defaults",
        };
        var description = new Option<string?>("--description") { Description = "A line saying what the model is" };
        var command = new Command("push", "Upload a model and register it as name:version (checked: it loads, has one image input, and runs)")
        {
            file, name, version, labels, preprocessing, description,
        };
        command.SetAction((parsed, cancellationToken) => RunAsync(parsed, gateway, async client =>
        {
            var path = parsed.GetValue(file)!;
            if (!File.Exists(path)) throw new ArgumentException($"no such file: {path}");
            var descriptor = Descriptor(parsed.GetValue(preprocessing), path);
            var request = new PushModelRequest
            {
                Name = parsed.GetValue(name)!, Version = parsed.GetValue(version)!, Description = parsed.GetValue(description) ?? "",
                Preprocessing = ToPreprocessing(descriptor),
            };
            var labelLines = parsed.GetValue(labels) is { } labelsPath
                ? File.Exists(labelsPath) ? File.ReadAllLines(labelsPath) : throw new ArgumentException($"no such file: {labelsPath}")
                : ModelDescriptorFile.LoadLabels(path, descriptor);
            if (labelLines is not null) request.Labels.Add(labelLines);
            request.ModelSha256 = (await client.UploadModelAsync(await File.ReadAllBytesAsync(path, cancellationToken), Path.GetFileName(path), cancellationToken)).Sha256;
            var model = await client.Models.PushModelAsync(request, cancellationToken: cancellationToken);
            AnsiConsole.MarkupLineInterpolated(
                $"registered [bold]{model.Name}:{model.Version}[/] ({model.ModelSha256[..12]}, input [[{string.Join(',', model.Model.InputShape)}]], {model.Model.ClassCount} classes, {model.LabelCount} labels)");
        }));
        return command;
    }

    private static Command List(Connection gateway)
    {
        var command = new Command("list", "The registered models of your team");
        command.SetAction((parsed, cancellationToken) => RunAsync(parsed, gateway, async client =>
        {
            var models = await client.Models.ListModelsAsync(new ListModelsRequest(), cancellationToken: cancellationToken);
            var table = new Table().AddColumns("model", "sha256", "input", "classes", "labels", "description");
            foreach (var m in models.Models)
                table.AddRow(Markup.Escape($"{m.Name}:{m.Version}"), m.ModelSha256[..12], $"[[{string.Join(',', m.Model.InputShape)}]]",
                    m.Model.ClassCount.ToString(), m.LabelCount.ToString(), Markup.Escape(m.Description));
            AnsiConsole.Write(table);
        }));
        return command;
    }

    private static Command Show(Connection gateway)
    {
        var reference = new Argument<string>("model") { Description = "name:version" };
        var command = new Command("show", "A registered model: preprocessing, inputs, outputs and the layers Grad-CAM can use") { reference };
        command.SetAction((parsed, cancellationToken) => RunAsync(parsed, gateway, async client =>
        {
            var m = await client.Models
                .GetModelAsync(new GetModelRequest { Model = parsed.GetValue(reference)! }, cancellationToken: cancellationToken);
            var p = m.Preprocessing;
            AnsiConsole.MarkupLineInterpolated($"[bold]{m.Name}:{m.Version}[/]  {m.Description}");
            AnsiConsole.MarkupLineInterpolated($"sha256  {m.ModelSha256}");
            AnsiConsole.MarkupLineInterpolated($"input   [bold]{m.Model.InputName}[/] {m.Model.InputType} [[{string.Join(',', m.Model.InputShape)}]]");
            AnsiConsole.MarkupLineInterpolated($"output  [bold]{m.Model.OutputName}[/] [[{string.Join(',', m.Model.OutputShape)}]], {m.Model.ClassCount} classes, {m.LabelCount} labels");
            AnsiConsole.MarkupLineInterpolated(
                $"preprocessing  {p.Width}x{p.Height} {p.Resize} {p.ResizeShorterSide}, {p.ChannelOrder} {p.Layout}, scale {p.Scale}, mean [[{string.Join(", ", p.Mean)}]], std [[{string.Join(", ", p.Std)}]], {p.Output}");
            var table = new Table().AddColumns("layer (--layer)", "op", "shape (C×H×W)", "");
            foreach (var layer in m.Layers)
                table.AddRow(Markup.Escape(layer.Name), layer.OpType, string.Join('×', layer.Shape), layer.GradcamDefault ? "gradcam default" : "");
            AnsiConsole.Write(table);
        }));
        return command;
    }

    private static Command Remove(Connection gateway)
    {
        var reference = new Argument<string>("model") { Description = "name:version" };
        var command = new Command("rm", "Remove a registered model (jobs that ran on it keep their results)") { reference };
        command.SetAction((parsed, cancellationToken) => RunAsync(parsed, gateway, async client =>
        {
            await client.Models
                .RemoveModelAsync(new RemoveModelRequest { Model = parsed.GetValue(reference)! }, cancellationToken: cancellationToken);
            AnsiConsole.MarkupLineInterpolated($"removed {parsed.GetValue(reference)}");
        }));
        return command;
    }

    /// <summary>The gateway and the caller's key, options of <c>models</c> that every subcommand takes.</summary>
    private sealed record Connection(Option<string?> Gateway, Option<string?> ApiKey);

    private static async Task<int> RunAsync(ParseResult parsed, Connection connection, Func<ExplainClient, Task> action)
    {
        try
        {
            var gateway = parsed.GetValue(connection.Gateway)
                ?? throw new ArgumentException("give the gateway with --gateway http://host:port (or LANTERN_GATEWAY)");
            using var client = ExplainClient.Connect(new Uri(gateway), parsed.GetValue(connection.ApiKey));
            await action(client);
            return 0;
        }
        catch (Grpc.Core.RpcException e)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]error ({e.StatusCode}):[/] {e.Status.Detail}");
            return 1;
        }
        catch (Exception e) when (e is ArgumentException or InvalidModelException or IOException or UriFormatException)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
            return 2;
        }
    }

    /// <summary>--preprocessing (inline JSON or a file), else the descriptor beside the model, else the defaults.</summary>
    private static ModelDescriptor Descriptor(string? option, string modelPath)
    {
        if (option is null) return ModelDescriptorFile.LoadBeside(modelPath) ?? ModelDescriptor.Default;
        var json = option.TrimStart().StartsWith('{') ? option : File.Exists(option) ? File.ReadAllText(option)
            : throw new ArgumentException($"--preprocessing is neither JSON nor an existing file: {option}");
        return ModelDescriptorFile.Parse(json);
    }

    private static Preprocessing ToPreprocessing(ModelDescriptor d)
    {
        var p = new Preprocessing
        {
            Resize = d.Resize, ResizeShorterSide = d.ResizeShorterSide, ChannelOrder = d.ChannelOrder, Layout = d.Layout ?? "",
            Scale = d.Scale, Mean = { d.Mean }, Std = { d.Std }, Output = d.Output,
        };
        if (d.InputSize is [var height, var width]) (p.Height, p.Width) = (height, width);
        return p;
    }
}
