using Google.Protobuf;
using Lantern.Contracts.Api;
using Lantern.Contracts.Messages;
using Lantern.Explainers.Scoring;
using Lantern.Imaging;
using Lantern.Models;
using Lantern.Methods;
using Lantern.Storage;
using System.Runtime.InteropServices;

namespace Lantern.Gateway.Mapping;

/// <summary>A finished job's maps, fetched from the artifact store by hash, as raw float32 bytes (and overlays on request).</summary>
public sealed class JobResultMapping(IArtifactStore artifacts, ArtifactCatalog catalog)
{
    public async Task<JobResult> ToApiAsync(JobResultReply reply, bool includeOverlays, CancellationToken cancellationToken)
    {
        var spec = reply.Spec;
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

        foreach (var stored in reply.Outcome.Maps)
        {
            var data = await artifacts.GetAsync(stored.DataSha256, cancellationToken)
                       ?? throw new InvalidOperationException($"map {stored.DataSha256} is missing from the artifact store");
            var map = new AttributionMap
            {
                TargetClass = stored.TargetClass, Region = stored.Region,
                Label = stored.Kind == "activation" ? $"channel {stored.TargetClass}" : spec.LabelOf(stored.TargetClass),
                Window = stored.Window, Kind = stored.Kind,
                Height = stored.Height, Width = stored.Width, Data = ByteString.CopyFrom(data),
            };
            if (image is not null)
                map.OverlayPng = ByteString.CopyFrom(HeatmapOverlay.RenderPng(image, MemoryMarshal.Cast<byte, float>(data)));
            result.Maps.Add(map);
        }
        return result;
    }

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
