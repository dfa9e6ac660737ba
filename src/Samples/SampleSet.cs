using System.Globalization;
using Lantern.Models;

namespace Lantern.Samples;

/// <summary>
/// What <c>lantern samples make DIR</c> writes: the three <see cref="RectangleModels"/>, each with its descriptor
/// (<c>name.json</c>: raw 0–255 pixels, no resize beyond a stretch, labels) so <c>lantern explain IMAGE --model
/// DIR/name.onnx</c> needs no preprocessing options, and 128×128 texture pictures with and without the white rectangle,
/// listed with their rectangles (the right answer) in <c>answers.csv</c>.
/// </summary>
public static class SampleSet
{
    public const int Size = 128;

    public const string Detector = "rectangle-detector";
    public const string AreaRegressor = "rectangle-area";
    public const string Segmenter = "rectangle-segmenter";
    public const string Answers = "answers.csv";

    /// <summary>One picture: its file name, the seed of its texture and its rectangle, if it has one.</summary>
    public sealed record Picture(string File, int Seed, TextureImages.Box? Rectangle);

    /// <summary>
    /// Each "without" picture has the same texture (seed) as the "with" picture of its number, so the pair differs only
    /// by the rectangle.
    /// </summary>
    public static IReadOnlyList<Picture> Pictures { get; } =
    [
        new("with-rectangle-1.png", 1, new TextureImages.Box(24, 20, 40, 32)),
        new("with-rectangle-2.png", 2, new TextureImages.Box(70, 60, 36, 44)),
        new("with-rectangle-3.png", 3, new TextureImages.Box(48, 84, 56, 24)),
        new("without-rectangle-1.png", 1, null),
        new("without-rectangle-2.png", 2, null),
        new("without-rectangle-3.png", 3, null),
    ];

    /// <summary>Writes every file into <paramref name="directory"/> (created if missing, files overwritten); returns their paths.</summary>
    public static IReadOnlyList<string> Write(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory.CreateDirectory(directory);
        var written = new List<string>();
        void Put(string name, byte[] bytes)
        {
            var path = Path.Combine(directory, name);
            File.WriteAllBytes(path, bytes);
            written.Add(path);
        }
        void Model(string name, byte[] onnx, params string[] labels)
        {
            Put(name + ".onnx", onnx);
            Put(name + ".json", System.Text.Encoding.UTF8.GetBytes(ModelDescriptorFile.ToJson(Descriptor(name + "-labels.txt"))));
            Put(name + "-labels.txt", System.Text.Encoding.UTF8.GetBytes(string.Join('\n', labels) + "\n"));
        }

        Model(Detector, RectangleModels.Detector(Size, Size), "no rectangle", "white rectangle");
        Model(AreaRegressor, RectangleModels.AreaRegressor(Size, Size), "white area fraction");
        Model(Segmenter, RectangleModels.Segmenter(Size, Size), "texture", "white rectangle");
        foreach (var picture in Pictures)
            Put(picture.File, TextureImages.Png(Size, Size, picture.Seed, picture.Rectangle));
        Put(Answers, System.Text.Encoding.UTF8.GetBytes(AnswersCsv()));
        return written;
    }

    /// <summary>The models read raw pixels: 128×128 RGB, scale 1, no mean or std, logits.</summary>
    private static ModelDescriptor Descriptor(string labels) => new(
        InputSize: [Size, Size],
        Resize: ModelDescriptor.ResizeStretch,
        ResizeShorterSide: Size,
        ChannelOrder: ModelDescriptor.Rgb,
        Layout: ModelDescriptor.Nchw,
        Scale: 1f,
        Mean: [0f, 0f, 0f],
        Std: [1f, 1f, 1f],
        Output: ModelDescriptor.Logits,
        Labels: labels);

    private static string AnswersCsv()
    {
        var lines = new List<string> { "image,has_rectangle,x,y,width,height" };
        foreach (var p in Pictures)
        {
            lines.Add(p.Rectangle is { } r
                ? string.Create(CultureInfo.InvariantCulture, $"{p.File},1,{r.X},{r.Y},{r.Width},{r.Height}")
                : $"{p.File},0,,,,");
        }
        return string.Join('\n', lines) + "\n";
    }
}
