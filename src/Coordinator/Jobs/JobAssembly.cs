using System.Runtime.InteropServices;
using Lantern.Contracts.Messages;
using Lantern.Methods;
using Lantern.Storage;

namespace Lantern.Coordinator.Jobs;

using Segmentation = Lantern.Explainers.Segmentation.Segmentation;

/// <summary>Turns a job's complete score matrix (or its folded scores) into maps in the artifact store and a summary.</summary>
public static class JobAssembly
{
    public static async Task<JobOutcome> AssembleAsync(JobState state, IArtifactStore artifacts, long finishedUnixMs)
    {
        var spec = state.Spec!;
        var segmentation = MethodCatalog.NeedsSegmentation(spec)
            ? Segmentation.FromBytes(await artifacts.GetAsync(spec.SegmentationSha256)
                                     ?? throw new InvalidOperationException($"segmentation {spec.SegmentationSha256} is missing"))
            : null;
        var method = MethodCatalog.For(spec, segmentation);
        var output = state.FoldedMaps() ?? AssembleScores(state, method);
        var outcome = new JobOutcome();
        foreach (var map in output.Maps)
        {
            // Little-endian float32, the wire form of AttributionMap.data (every supported platform is little-endian).
            var put = await artifacts.PutAsync(MemoryMarshal.AsBytes(map.Data.AsSpan()).ToArray(), "map");
            outcome.Maps.Add(new StoredMap
            {
                TargetClass = map.Kind == "activation" ? map.Target : spec.ClassOf(map.Target),
                Region = map.Kind == "activation" ? 0 : TargetRegions.RegionNumber(map.Target),
                Window = map.Window, Kind = map.Kind,
                Height = map.Height > 0 ? map.Height : spec.ImageHeight, Width = map.Height > 0 ? map.Width : spec.ImageWidth,
                DataSha256 = put.Sha256,
            });
        }
        outcome.SummaryJson = JobSummary.Build(state, method, output, finishedUnixMs);
        return outcome;
    }

    private static MethodOutput AssembleScores(JobState state, IExplanationMethod method)
    {
        var scores = state.ScoresForMaps();
        return state.MapLength > 0
            ? method.Assemble(state.BaselineTargetScores(), scores.Span, state.ItemMaps, state.Targets)
            : method.Assemble(state.BaselineTargetScores(), scores.Span, state.Targets);
    }
}
