using System.Globalization;
using System.Text;
using System.Text.Json;
using Lantern.Contracts.Api;

namespace Lantern.Cli.Client;

/// <summary>
/// Writes a dataset job's result: each explained image's files (as <see cref="ResultWriter"/> writes one job's) under
/// OUT/&lt;image name&gt;/, and OUT/index.csv and OUT/index.json with every image's state, top classes and scores.
/// </summary>
public static class DatasetResults
{
    /// <summary>Image results fetched (and their overlays drawn by the gateway) at once.</summary>
    private const int ParallelFetches = 4;

    /// <param name="rankingChannel">max-activating --channel: also ranking-channel-&lt;c&gt;.csv by that channel's pooled activation.</param>
    public static async Task<IReadOnlyList<string>> WriteAsync(ExplainClient client, JobResult index, string directory,
        CancellationToken cancellationToken, int? rankingChannel = null)
    {
        Directory.CreateDirectory(directory);
        var folders = FolderNames(index.Images);
        await Parallel.ForEachAsync(index.Images.Where(i => i.State == JobState.Done),
            new ParallelOptions { MaxDegreeOfParallelism = ParallelFetches, CancellationToken = cancellationToken },
            async (image, token) =>
            {
                var result = await client.Api.GetResultAsync(
                    new GetResultRequest { JobId = image.JobId, IncludeOverlays = true, OverlayStyle = client.OverlayStyle }, cancellationToken: token);
                ResultWriter.Write(result, Path.Combine(directory, folders[image.Index]));
            });
        var written = new List<string>
        {
            ResultWriter.WriteFile(directory, "index.csv", Encoding.UTF8.GetBytes(Csv(index, folders))),
            ResultWriter.WriteFile(directory, "index.json", Encoding.UTF8.GetBytes(Json(index, folders))),
        };
        if (rankingChannel is { } channel)
        {
            var byChannel = index.Images.Where(i => i.State == JobState.Done && channel < i.Pooled.Count).Select(i => (i, i.Pooled[channel]));
            written.Add(ResultWriter.WriteFile(directory, $"ranking-channel-{channel}.csv", Encoding.UTF8.GetBytes(Ranking(byChannel, folders))));
        }
        else
        {
            foreach (var targetClass in SharedTargets(index))
                written.Add(ResultWriter.WriteFile(directory, $"ranking-{targetClass}.csv", Encoding.UTF8.GetBytes(Ranking(
                    index.Images.Where(i => i.State == JobState.Done).Select(i => (i, i.TargetScores[i.Targets.IndexOf(targetClass)])), folders))));
        }
        if (index.Embedding is { } embedding)
        {
            var xy = new float[embedding.X.Count * 2];
            for (var k = 0; k < embedding.X.Count; k++) (xy[2 * k], xy[2 * k + 1]) = (embedding.X[k], embedding.Y[k]);
            written.Add(ResultWriter.WriteFile(directory, "tsne.npy", Imaging.Npy.Encode(xy, embedding.X.Count, 2)));
            written.Add(ResultWriter.WriteFile(directory, "tsne.csv", Encoding.UTF8.GetBytes(Tsne(index, embedding))));
        }
        foreach (var picture in index.Pictures) // max-activating-<class>.png, min-activating-<class>.png, tsne.png
            written.Add(ResultWriter.WriteFile(directory, Path.GetFileName(picture.Name), picture.Png.ToByteArray()));
        return written;
    }

    /// <summary>The classes every explained image has as a target (explicit --classes): those the images can be ranked by.</summary>
    public static IReadOnlyList<int> SharedTargets(JobResult index)
    {
        var done = index.Images.Where(i => i.State == JobState.Done).ToList();
        return done.Count == 0 ? [] : [.. done[0].Targets.Where(t => done.All(i => i.Targets.Contains(t)))];
    }

    public static readonly string[] TsneColumns = ["index", "file_name", "label", "top_class", "top_label", "x", "y"];

    /// <summary>One row per embedded image (tsne.npy's rows, in order): its t-SNE coordinates beside its label and top class.</summary>
    public static string Tsne(JobResult index, DatasetEmbedding embedding)
    {
        var c = CultureInfo.InvariantCulture;
        var byIndex = index.Images.ToDictionary(i => i.Index);
        var text = new StringBuilder(string.Join(',', TsneColumns)).Append('\n');
        for (var k = 0; k < embedding.ImageIndex.Count; k++)
        {
            var image = byIndex[embedding.ImageIndex[k]];
            var top = image.TopClasses.FirstOrDefault();
            text.AppendJoin(',', new[]
            {
                image.Index.ToString(c), image.FileName, image.Label, top?.ClassIndex.ToString(c) ?? "", top?.Label ?? "",
                embedding.X[k].ToString("R", c), embedding.Y[k].ToString("R", c),
            }.Select(Field)).Append('\n');
        }
        return text.ToString();
    }

    public static readonly string[] RankingColumns = ["rank", "file_name", "label", "score", "folder", "job_id"];

    /// <summary>Images by their score (a class's, or a channel's activation), highest first (the order of max-activating-*.png).</summary>
    public static string Ranking(IEnumerable<(DatasetImageResult Image, float Score)> scored, IReadOnlyDictionary<int, string> folders)
    {
        var c = CultureInfo.InvariantCulture;
        var ranked = scored.OrderByDescending(x => x.Score).ThenBy(x => x.Image.Index);
        var text = new StringBuilder(string.Join(',', RankingColumns)).Append('\n');
        var rank = 0;
        foreach (var (image, score) in ranked)
            text.AppendJoin(',', new[]
            {
                (++rank).ToString(c), image.FileName, image.Label, score.ToString("R", c), folders[image.Index], image.JobId,
            }.Select(Field)).Append('\n');
        return text.ToString();
    }

    /// <summary>
    /// Each image's folder: its file name without the extension ("tench.png" → "tench"), or the whole file name when two
    /// images of the dataset share a stem (a.png and a.jpg).
    /// </summary>
    public static IReadOnlyDictionary<int, string> FolderNames(IEnumerable<DatasetImageResult> images)
    {
        var list = images.ToList();
        var stems = list.GroupBy(i => Path.GetFileNameWithoutExtension(i.FileName), StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.OrdinalIgnoreCase);
        return list.ToDictionary(i => i.Index, i =>
        {
            var stem = Path.GetFileNameWithoutExtension(i.FileName);
            return stem.Length > 0 && stems[stem] == 1 ? stem : i.FileName;
        });
    }

    public static readonly string[] CsvColumns =
    [
        "index", "file_name", "label", "state", "top_class", "top_label", "top_score", "label_is_top", "top5", "targets",
        "target_scores", "evaluations", "folder", "job_id", "error",
    ];

    /// <summary>One row per image in the dataset's order; top5 is "class:score" pairs separated by spaces.</summary>
    public static string Csv(JobResult index, IReadOnlyDictionary<int, string> folders)
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder(string.Join(',', CsvColumns)).Append('\n');
        foreach (var image in index.Images)
        {
            var top = image.TopClasses.FirstOrDefault();
            text.AppendJoin(',', new[]
            {
                image.Index.ToString(c), image.FileName, image.Label, image.State.ToString().ToLowerInvariant(),
                top?.ClassIndex.ToString(c) ?? "", top?.Label ?? "", top?.Score.ToString("R", c) ?? "",
                image.Label.Length == 0 || top is null ? "" : LabelIsTop(image, top) ? "true" : "false",
                string.Join(' ', image.TopClasses.Select(t => $"{t.ClassIndex.ToString(c)}:{t.Score.ToString("R", c)}")),
                string.Join(' ', image.Targets.Select(t => t.ToString(c))),
                string.Join(' ', image.TargetScores.Select(t => t.ToString("R", c))), image.Evaluations.ToString(c),
                image.State == JobState.Done ? folders[image.Index] : "", image.JobId, image.Error,
            }.Select(Field)).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>The dataset's label names the top class, by its label or its index.</summary>
    private static bool LabelIsTop(DatasetImageResult image, ClassScore top) =>
        string.Equals(image.Label, top.Label, StringComparison.OrdinalIgnoreCase)
        || image.Label == top.ClassIndex.ToString(CultureInfo.InvariantCulture);

    /// <summary>RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled.</summary>
    private static string Field(string value) =>
        value.IndexOfAny([',', '"', '\n', '\r']) < 0 ? value : $"\"{value.Replace("\"", "\"\"")}\"";

    private static string Json(JobResult index, IReadOnlyDictionary<int, string> folders) =>
        JsonSerializer.Serialize(new
        {
            job_id = index.Progress.JobId,
            dataset = index.Progress.Dataset,
            method = index.Progress.Method,
            images_total = index.Progress.ImagesTotal,
            images_failed = index.Progress.ImagesFailed,
            evaluations = index.Progress.Evaluations,
            images = index.Images.Select(i => new
            {
                index = i.Index, file_name = i.FileName, label = i.Label, image_sha256 = i.ImageSha256,
                state = i.State.ToString().ToLowerInvariant(), job_id = i.JobId, error = i.Error,
                folder = i.State == JobState.Done ? folders[i.Index] : null,
                top_classes = i.TopClasses.Select(t => new { @class = t.ClassIndex, label = t.Label, score = t.Score }),
                targets = i.Targets, target_scores = i.TargetScores, evaluations = i.Evaluations,
            }),
        }, new JsonSerializerOptions { WriteIndented = true });
}
