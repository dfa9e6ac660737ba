using Lantern.Cli;
using Lantern.Cluster.Tests.EndToEnd;
using Lantern.Models;
using Lantern.Samples;
using Microsoft.ML.OnnxRuntime;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Lantern.Cluster.Tests.Samples;

/// <summary>
/// <c>lantern samples make DIR</c> writes every model with its descriptor and labels, and the pictures; each model gives
/// its known answer on each picture: the detector finds exactly the pictures with a rectangle, the regression head
/// measures the rectangle's area, the segmenter's argmax is the rectangle's mask.
/// </summary>
[Collection(CommandLineCollection.Name)]
public sealed class SampleSetTests
{
    private const int Size = SampleSet.Size;
    private readonly string _directory = Path.Combine(Directory.CreateTempSubdirectory("lantern-samples-").FullName, "synthetic");

    [Fact]
    public async Task Samples_make_writes_each_model_with_a_descriptor_its_labels_and_the_pictures()
    {
        Assert.Equal(0, await LanternCli.RunAsync(["samples", "make", _directory]));

        foreach (var (name, classes) in new[] { (SampleSet.Detector, 2), (SampleSet.AreaRegressor, 1), (SampleSet.Segmenter, 2) })
        {
            var model = Path.Combine(_directory, name + ".onnx");
            var descriptor = ModelDescriptorFile.LoadBeside(model);
            Assert.NotNull(descriptor);
            Assert.Equal([Size, Size], descriptor.InputSize!);
            Assert.Equal(classes, ModelDescriptorFile.LoadLabels(model, descriptor)!.Length);
            var info = OnnxModelInspector.Inspect(File.ReadAllBytes(model));
            Assert.Equal((Size, Size), (info.InputHeight, info.InputWidth));
        }
        foreach (var picture in SampleSet.Pictures)
            Assert.True(File.Exists(Path.Combine(_directory, picture.File)), $"{picture.File} was not written");
        var answers = File.ReadAllLines(Path.Combine(_directory, SampleSet.Answers));
        Assert.Equal(1 + SampleSet.Pictures.Count, answers.Length);
        Assert.Contains("with-rectangle-1.png,1,24,20,40,32", answers);
    }

    [Fact]
    public async Task Each_sample_model_gives_its_known_answer_on_each_picture()
    {
        Assert.Equal(0, await LanternCli.RunAsync(["samples", "make", _directory]));
        using var detector = new InferenceSession(Path.Combine(_directory, SampleSet.Detector + ".onnx"));
        using var regressor = new InferenceSession(Path.Combine(_directory, SampleSet.AreaRegressor + ".onnx"));
        using var segmenter = new InferenceSession(Path.Combine(_directory, SampleSet.Segmenter + ".onnx"));

        foreach (var picture in SampleSet.Pictures)
        {
            var pixels = RawPixels(Path.Combine(_directory, picture.File));
            var scores = Run(detector, pixels);
            var area = Run(regressor, pixels);
            var segmentation = Run(segmenter, pixels);

            Assert.Equal(picture.Rectangle is null ? 0 : 1, scores[1] > scores[0] ? 1 : 0);
            var expectedArea = picture.Rectangle is { } r ? r.Width * r.Height / (float)(Size * Size) : 0f;
            Assert.Equal(expectedArea, Assert.Single(area), 4);
            for (var y = 0; y < Size; y++)
                for (var x = 0; x < Size; x++)
                {
                    var rectangle = segmentation[Size * Size + y * Size + x] > segmentation[y * Size + x];
                    Assert.True(rectangle == (picture.Rectangle?.Contains(x, y) == true), $"{picture.File} ({x},{y})");
                }
        }
    }

    /// <summary>The PNG as the descriptor feeds it: [1,3,H,W], RGB, raw 0–255.</summary>
    private static float[] RawPixels(string path)
    {
        using var image = Image.Load<Rgb24>(path);
        var data = new float[3 * Size * Size];
        for (var y = 0; y < Size; y++)
            for (var x = 0; x < Size; x++)
            {
                var p = image[x, y];
                (data[y * Size + x], data[Size * Size + y * Size + x], data[2 * Size * Size + y * Size + x]) = (p.R, p.G, p.B);
            }
        return data;
    }

    private static float[] Run(InferenceSession session, float[] pixels)
    {
        using var input = OrtValue.CreateTensorValueFromMemory(pixels, [1, 3, Size, Size]);
        using var options = new RunOptions();
        using var outputs = session.Run(options, [OnnxParts.InputName], [input], [OnnxParts.OutputName]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }
}
