using System.CommandLine;
using Lantern.Gradients;
using Lantern.Models;
using Spectre.Console;

namespace Lantern.Cli.Commands;

/// <summary>
/// <c>lantern inspect MODEL</c>: what Lantern reads from an ONNX file: its image input, its output, and the layers a user
/// can name with --layer (every 4-D activation with its shape), marking the one Grad-CAM picks by default.
/// </summary>
public static class InspectCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "ONNX model file" };
        var inputSize = new Option<string?>("--input-size") { Description = "Model input HxW, when the ONNX file leaves it open" };
        var command = new Command("inspect", "List a model's input, output and the layers Grad-CAM, Score-CAM and activations can use");
        command.Arguments.Add(model);
        command.Options.Add(inputSize);
        command.SetAction(parsed =>
        {
            try
            {
                var path = parsed.GetValue(model)!;
                if (!File.Exists(path)) throw new ArgumentException($"no such file: {path}");
                var bytes = File.ReadAllBytes(path);
                var info = OnnxModelInspector.Inspect(bytes);
                var (height, width) = InputSize(parsed.GetValue(inputSize), info, ModelDescriptorFile.LoadBeside(path));
                long[] inputShape = info.ChannelsFirst ? [3, height, width] : [height, width, 3];
                Print(info, LayerCatalog.List(bytes, inputShape));
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or InvalidModelException or UnsupportedModelException or IOException)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
                return 2;
            }
        });
        return command;
    }

    private static (int Height, int Width) InputSize(string? option, OnnxModelInfo info, ModelDescriptor? descriptor)
    {
        if (option is not null)
        {
            var parts = option.Split('x');
            if (parts.Length == 2 && int.TryParse(parts[0], out var h) && int.TryParse(parts[1], out var w) && h > 0 && w > 0) return (h, w);
            throw new ArgumentException($"--input-size '{option}' is not HxW, e.g. 224x224");
        }
        if (info.InputHeight > 0 && info.InputWidth > 0) return (info.InputHeight, info.InputWidth);
        if (descriptor?.InputSize is [var dh, var dw]) return (dh, dw);
        throw new ArgumentException("the model's input size is symbolic; give --input-size HxW");
    }

    private static void Print(OnnxModelInfo info, IReadOnlyList<LayerInfo> layers)
    {
        AnsiConsole.MarkupLineInterpolated($"input   [bold]{info.InputName}[/] {info.InputType} [[{string.Join(',', info.InputShape)}]]");
        AnsiConsole.MarkupLineInterpolated($"output  [bold]{info.OutputName}[/] {info.OutputType} [[{string.Join(',', info.OutputShape)}]]");
        var table = new Table().AddColumns("layer (--layer)", "op", "shape (C×H×W)", "");
        foreach (var layer in layers)
            table.AddRow(Markup.Escape(layer.Name), layer.OpType, string.Join('×', layer.Shape), layer.IsDefaultCamLayer ? "gradcam default" : "");
        AnsiConsole.Write(table);
        var chosen = layers.FirstOrDefault(l => l.IsDefaultCamLayer);
        if (chosen is null)
            AnsiConsole.MarkupLine("no layer with spatial size above 1: use an input method (saliency, integrated-gradients, ...)");
        else
            AnsiConsole.MarkupLineInterpolated($"Grad-CAM uses [bold]{chosen.Name}[/] unless --layer names another (the last 4-D activation with spatial size > 1).");
    }
}
