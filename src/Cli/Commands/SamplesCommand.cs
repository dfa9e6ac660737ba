using System.CommandLine;
using Lantern.Samples;
using Spectre.Console;

namespace Lantern.Cli.Commands;

/// <summary>
/// <c>lantern samples make DIR</c>: writes the synthetic known-answer models (a white-rectangle detector, a regression
/// head measuring the rectangle's area, a per-pixel rectangle segmenter), their descriptors and texture pictures with and
/// without the rectangle, then prints the commands that explain them.
/// </summary>
public static class SamplesCommand
{
    public static Command Create()
    {
        var directory = new Argument<string>("dir") { Description = "Folder to write into (created if missing; files of the same names are overwritten)" };
        var make = new Command("make", "Write small ONNX models whose right answer is known (the white rectangle), with descriptors and pictures")
        {
            directory,
        };
        make.SetAction(parsed =>
        {
            var folder = parsed.GetValue(directory)!;
            try
            {
                foreach (var path in SampleSet.Write(folder)) Console.WriteLine(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
                return 2;
            }
            Console.WriteLine();
            Console.WriteLine("Try (the README's Samples section says what each should show):");
            foreach (var line in Commands(folder)) Console.WriteLine("  " + line);
            return 0;
        });
        return new Command("samples", "Synthetic models and pictures to try the methods on") { make };
    }

    /// <summary>The README's sample commands for models written to <paramref name="folder"/>.</summary>
    public static IReadOnlyList<string> Commands(string folder)
    {
        string In(string name) => Path.Combine(folder, name);
        var picture = In(SampleSet.Pictures[0].File);
        return
        [
            $"lantern explain {picture} --model {In(SampleSet.Detector + ".onnx")} --method lime --hide mean --classes 1 --out out-lime",
            $"lantern explain {picture} --model {In(SampleSet.AreaRegressor + ".onnx")} --method gradcam --classes 0 --out out-regression",
            $"lantern explain {picture} --model {In(SampleSet.Segmenter + ".onnx")} --method gradcam --region 1 --out out-segmentation",
        ];
    }
}
