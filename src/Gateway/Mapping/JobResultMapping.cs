using Google.Protobuf;
using Lantern.Contracts.Api;
using Lantern.Contracts.Messages;
using Lantern.Explainers.Scoring;
using Lantern.Imaging;
using Lantern.Models;
using Lantern.Methods;
using Lantern.Methods.Gradients;
using Lantern.Storage;
using System.Runtime.InteropServices;
using OverlayStyle = Lantern.Imaging.OverlayStyle;

namespace Lantern.Gateway.Mapping;

/// <summary>A finished job's maps, fetched from the artifact store by hash, as raw float32 bytes (and overlays on request).</summary>
public sealed class JobResultMapping(IArtifactStore artifacts, ArtifactCatalog catalog)
{
    // Captum's visualize_image_attr clips the top 2 % of |attribution| by default (outlier_perc=2): gradient maps have a
    // few extreme pixels that would otherwise leave the rest invisible (saliency "faint dots").
    private static readonly HashSet<string> GradientMethods =
        ["saliency", "gradient-x-input", "integrated-gradients", "smoothgrad", "guided-backprop"];

    /// <summary>A dataset job's result: no maps of its own, its images in the dataset's order with their jobs and top classes.</summary>
    public static JobResult ToApi(DatasetJobResultReply reply)
    {
        var result = new JobResult { Progress = reply.Progress };
        foreach (var outcome in reply.Images)
        {
            var image = new DatasetImageResult
            {
                Index = outcome.Index, FileName = outcome.Image.FileName, Label = outcome.Image.Label,
                ImageSha256 = outcome.Image.ImageSha256, JobId = outcome.JobId, Error = outcome.Error,
                Evaluations = outcome.Evaluations, Targets = { outcome.Targets }, TargetScores = { outcome.TargetScores },
                Pooled = { outcome.Pooled },
                State = outcome.Phase switch
                {
                    IndexedJobPhase.Done => Contracts.Api.JobState.Done,
                    IndexedJobPhase.Failed => Contracts.Api.JobState.Failed,
                    IndexedJobPhase.Cancelled => Contracts.Api.JobState.Cancelled,
                    _ => outcome.JobId.Length > 0 ? Contracts.Api.JobState.Running : Contracts.Api.JobState.Queued,
                },
            };
            for (var i = 0; i < outcome.TopClasses.Count; i++)
            {
                image.TopClasses.Add(new ClassScore
                {
                    ClassIndex = outcome.TopClasses[i], Score = outcome.TopScores[i],
                    Label = reply.Template is { } template ? template.LabelOf(outcome.TopClasses[i]) : "",
                });
            }
            result.Images.Add(image);
        }
        return result;
    }

    public async Task<JobResult> ToApiAsync(JobResultReply reply, bool includeOverlays, CancellationToken cancellationToken) =>
        await ToApiAsync(reply, includeOverlays, null, cancellationToken);

    /// <exception cref="ArgumentException">The overlay style names an unknown colour map or sign, or a value out of range.</exception>
    public async Task<JobResult> ToApiAsync(JobResultReply reply, bool includeOverlays, Contracts.Api.OverlayStyle? overlayStyle,
        CancellationToken cancellationToken)
    {
        var spec = reply.Spec;
        var style = includeOverlays ? ToStyle(overlayStyle, reply.Progress.Method) : null;
        var image = includeOverlays ? await catalog.ImageAsync(spec.ImageSha256, cancellationToken) : null;
        var result = new JobResult
        {
            Progress = reply.Progress,
            ModelScores = { reply.Baseline },
            Targets = { reply.Targets },
            SummaryJson = reply.Outcome.SummaryJson,
        };
        var probabilities = spec.Probabilities(reply.Baseline);
        foreach (var c in Scores.TopK(probabilities, Math.Min(5, probabilities.Length)))
            result.TopClasses.Add(new ClassScore { ClassIndex = c, Label = spec.LabelOf(c), Score = probabilities[c] });

        var scales = new Dictionary<(int Class, int Region), List<(string Caption, float[] Map)>>();
        var fetched = new List<(StoredMap Stored, AttributionMap Map, byte[] Data)>();
        foreach (var stored in reply.Outcome.Maps)
        {
            var data = await artifacts.GetAsync(stored.DataSha256, cancellationToken)
                       ?? throw new InvalidOperationException($"map {stored.DataSha256} is missing from the artifact store");
            var map = new AttributionMap
            {
                TargetClass = stored.TargetClass, Region = stored.Region,
                Label = stored.Kind == "activation" ? $"channel {stored.TargetClass}"
                    : DeepDreamMethod.DreamsChannels(spec) ? DeepDreamMethod.ChannelLabel(spec, stored.TargetClass)
                    : spec.LabelOf(stored.TargetClass),
                Window = stored.Window, Kind = stored.Kind,
                Height = stored.Height, Width = stored.Width, Data = ByteString.CopyFrom(data),
            };
            fetched.Add((stored, map, data));
            result.Maps.Add(map);
        }
        if (image is not null && style is not null)
        {
            // Each overlay is drawn on its own (a LIME job's map and mask, a top-5 job's five maps): in parallel, the
            // fetch waits for the slowest picture rather than their sum.
            try
            {
                Parallel.For(0, fetched.Count, new ParallelOptions { CancellationToken = cancellationToken }, DrawOverlay);
            }
            catch (AggregateException e) when (e.InnerExceptions.Count == 1)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerExceptions[0]); // as drawing them in turn threw it
            }
            void DrawOverlay(int i)
            {
                var (stored, map, data) = fetched[i];
                var values = MemoryMarshal.Cast<byte, float>(data);
                var title = Title(map, probabilities, stored.Window);
                map.OverlayPng = ByteString.CopyFrom(stored.Kind switch
                {
                    "mask" => AttributionPictures.LimeMask(image, values, style.Plain ? null : title),
                    DeepDreamMethod.MapKind => AttributionPictures.Dream(values, stored.Width, stored.Height, style.Plain ? null : title),
                    _ => AttributionPictures.Overlay(image, values, style with { Title = title }),
                });
            }
            foreach (var (stored, _, data) in fetched.Where(m => m.Stored.Kind.Length == 0))
            {
                var key = (stored.TargetClass, stored.Region);
                if (!scales.TryGetValue(key, out var list)) scales[key] = list = [];
                list.Add((stored.Window == 0 ? "combined" : $"window {stored.Window}", MemoryMarshal.Cast<byte, float>(data).ToArray()));
            }
        }
        // A multi-scale job: one sheet per target with every scale and the combined map, smallest window first.
        foreach (var ((target, region), maps) in scales.Where(s => s.Value.Count > 1))
        {
            var ordered = maps.OrderBy(m => m.Caption == "combined" ? int.MaxValue : int.Parse(m.Caption[7..], System.Globalization.CultureInfo.InvariantCulture)).ToList();
            var title = Title(new AttributionMap { TargetClass = target, Region = region, Label = spec.LabelOf(target) }, probabilities, 0);
            result.Pictures.Add(new Picture
            {
                Name = region == 0 ? $"sheet-{target}.png" : $"sheet-{target}-r{region}.png",
                Png = ByteString.CopyFrom(AttributionPictures.Sheet(image!, ordered, style! with { Title = title })),
            });
        }
        return result;
    }

    /// <summary>MATLAB's gradCAM example title: "golden retriever (0.95)", the label and the model's probability.</summary>
    private static string Title(AttributionMap map, float[] probabilities, int window)
    {
        var name = map.Label.Length > 0 ? map.Label : $"class {map.TargetClass}";
        if (map.Kind is "activation" or DeepDreamMethod.MapKind) return name; // a probability of the job's image says nothing of either
        var score = map.TargetClass >= 0 && map.TargetClass < probabilities.Length
            ? $" ({probabilities[map.TargetClass].ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)})"
            : "";
        var region = map.Region > 0 ? $", region {map.Region}" : "";
        var scale = window > 0 ? $", window {window}" : "";
        return $"{name}{score}{region}{scale}";
    }

    /// <exception cref="ArgumentException">A value out of range.</exception>
    public static OverlayStyle ToStyle(Contracts.Api.OverlayStyle? style, string method) => new OverlayStyle(
        Colormap: style is { Colormap.Length: > 0 } ? style.Colormap : null,
        Alpha: style is { HasAlpha: true } ? style.Alpha : 0.5f,
        Sign: style is { Sign.Length: > 0 } ? style.Sign : null,
        OutlierPercent: style is { HasOutlierPercent: true } ? style.OutlierPercent : GradientMethods.Contains(method) ? 2 : 0,
        Plain: style?.Plain ?? false).Validated();

    public static ModelInfo ToApi(OnnxModelInfo info) => new()
    {
        InputName = info.InputName,
        InputType = info.InputType == TensorElementKind.Float16 ? "float16" : "float32",
        InputShape = { info.InputShape },
        OutputName = info.OutputName,
        OutputShape = { info.OutputShape },
        ClassCount = info.ClassCount,
    };

}
