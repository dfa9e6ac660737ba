using System.Runtime.InteropServices;
using Google.Protobuf;
using Lantern.Contracts.Api;
using Lantern.Contracts.Messages;
using Lantern.Imaging;
using Lantern.Methods;
using Lantern.Storage;
using OverlayStyle = Lantern.Imaging.OverlayStyle;

namespace Lantern.Gateway.Mapping;

/// <summary>
/// Max/min activating images (MATLAB's "visualize the images that most and least activate a class"): a dataset job's
/// images ranked by each explained class's score on the unperturbed image, the highest and the lowest drawn side by side
/// with the image's map of that class over it (its Grad-CAM or occlusion map, whatever the job ran) and its score.
/// </summary>
public sealed class DatasetRanking(IArtifactStore artifacts, ArtifactCatalog catalog)
{
    public const int DefaultSize = 8;
    public const int MaxSize = 64;

    /// <summary>The images of <paramref name="index"/> that explained <paramref name="targetClass"/>, highest score first.</summary>
    public static IReadOnlyList<(DatasetImageOutcome Image, float Score)> Ranked(DatasetJobResultReply index, int targetClass) =>
        [.. index.Images
            .Where(i => i.Phase == IndexedJobPhase.Done)
            .Select(i => (Image: i, At: i.Targets.IndexOf(targetClass)))
            .Where(x => x.At >= 0 && x.At < x.Image.TargetScores.Count)
            .Select(x => (x.Image, x.Image.TargetScores[x.At]))
            .OrderByDescending(x => x.Item2).ThenBy(x => x.Image.Index)];

    /// <summary>The images of a pooled-activations dataset job by one channel's mean activation, highest first.</summary>
    public static IReadOnlyList<(DatasetImageOutcome Image, float Score)> RankedByChannel(DatasetJobResultReply index, int channel) =>
        [.. index.Images
            .Where(i => i.Phase == IndexedJobPhase.Done && channel < i.Pooled.Count)
            .Select(i => (i, i.Pooled[channel]))
            .OrderByDescending(x => x.Item2).ThenBy(x => x.i.Index)];

    /// <summary>
    /// The classes every image explains (the request's explicit classes; with top_k each image explains its own, which
    /// ranks nothing), each with a max- and a min-activating picture of <paramref name="size"/> images; and for a
    /// pooled-activations job, the <paramref name="channel"/> asked for, by its mean activation.
    /// </summary>
    /// <param name="imageResult">An image job's result, by job id (null when it is gone).</param>
    public async Task<IReadOnlyList<Picture>> PicturesAsync(DatasetJobResultReply index, int size, OverlayStyle style,
        Func<string, Task<JobResultReply?>> imageResult, CancellationToken cancellationToken, int? channel = null)
    {
        if (index.Template is not { } template) return [];
        size = size <= 0 ? DefaultSize : Math.Min(size, MaxSize);
        var pictures = new List<Picture>();
        if (channel is { } c && RankedByChannel(index, c) is { Count: > 0 } byChannel)
        {
            var name = $"{template.Gradient?.Layer} channel {c}";
            pictures.Add(await PictureAsync($"max-activating-channel-{c}.png", $"highest {name}", [.. byChannel.Take(size)], -1, style, imageResult, cancellationToken));
            pictures.Add(await PictureAsync($"min-activating-channel-{c}.png", $"lowest {name}", [.. byChannel.Reverse().Take(size)], -1, style, imageResult, cancellationToken));
        }
        foreach (var targetClass in template.Targets.Classes)
        {
            var ranked = Ranked(index, targetClass);
            if (ranked.Count == 0) continue;
            var label = template.LabelOf(targetClass);
            var name = label.Length > 0 ? label : $"class {targetClass}";
            var top = ranked.Take(size).ToList();
            var bottom = ranked.Reverse().Take(size).ToList();
            pictures.Add(await PictureAsync($"max-activating-{targetClass}.png", $"highest {name}", top, targetClass, style, imageResult, cancellationToken));
            pictures.Add(await PictureAsync($"min-activating-{targetClass}.png", $"lowest {name}", bottom, targetClass, style, imageResult, cancellationToken));
        }
        return pictures;
    }

    private async Task<Picture> PictureAsync(string fileName, string title, IReadOnlyList<(DatasetImageOutcome Image, float Score)> images,
        int targetClass, OverlayStyle style, Func<string, Task<JobResultReply?>> imageResult, CancellationToken cancellationToken)
    {
        var panels = new List<(byte[] Rgb, int Width, int Height, string Caption)>();
        foreach (var (image, score) in images)
        {
            var photo = await catalog.ImageAsync(image.Image.ImageSha256, cancellationToken);
            var rgb = Array.ConvertAll(photo.Pixels, v => (byte)Math.Clamp(MathF.Round(v), 0, 255));
            if (await MapAsync(image.JobId, targetClass, imageResult, cancellationToken) is { } map && map.Length == photo.Width * photo.Height)
                rgb = AttributionPictures.Blend(photo, map, style).Rgb;
            panels.Add((rgb, photo.Width, photo.Height, $"{image.Image.FileName} ({Figure.Format(score)})"));
        }
        return new Picture { Name = fileName, Png = ByteString.CopyFrom(Figure.Sheet(panels, title, panelWidth: 224)) };
    }

    /// <summary>The image job's combined map of the class, or null (a job without one, or gone).</summary>
    private async Task<float[]?> MapAsync(string jobId, int targetClass, Func<string, Task<JobResultReply?>> imageResult,
        CancellationToken cancellationToken)
    {
        if (targetClass < 0 || await imageResult(jobId) is not { Outcome: { } outcome }) return null;
        var stored = outcome.Maps.FirstOrDefault(m => m.TargetClass == targetClass && m.Window == 0 && m.Kind.Length == 0 && m.Region == 0);
        if (stored is null || await artifacts.GetAsync(stored.DataSha256, cancellationToken) is not { } data) return null;
        return MemoryMarshal.Cast<byte, float>(data).ToArray();
    }
}
