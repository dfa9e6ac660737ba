using System.Runtime.InteropServices;
using Lantern.Contracts.Messages;
using Lantern.Explainers.Occlusion;
using Lantern.Storage;

namespace Lantern.Coordinator.Jobs;

/// <summary>Turns a job's complete score matrix into maps in the artifact store and a summary.</summary>
public static class JobAssembly
{
    public static async Task<JobOutcome> AssembleAsync(JobState state, IArtifactStore artifacts, long finishedUnixMs)
    {
        var plan = state.Plan!;
        var maps = OcclusionAssembler.Assemble(plan, state.BaselineTargetScores(), state.TargetScores, state.Targets.Length);
        var outcome = new JobOutcome();
        for (var t = 0; t < state.Targets.Length; t++)
        {
            outcome.Maps.Add(await StoreAsync(artifacts, maps.Combined[t], state.Targets[t], window: 0, maps));
            if (plan.Scales.Count < 2) continue;
            for (var s = 0; s < plan.Scales.Count; s++)
                outcome.Maps.Add(await StoreAsync(artifacts, maps.PerScale[s][t], state.Targets[t], plan.Scales[s].Height, maps));
        }
        outcome.SummaryJson = JobSummary.Build(state, finishedUnixMs);
        return outcome;
    }

    private static async Task<StoredMap> StoreAsync(IArtifactStore artifacts, float[] map, int target, int window, OcclusionMaps maps)
    {
        // Little-endian float32, the wire form of AttributionMap.data (every supported platform is little-endian).
        var put = await artifacts.PutAsync(MemoryMarshal.AsBytes(map.AsSpan()).ToArray(), "map");
        return new StoredMap
        {
            TargetClass = target, Window = window, Height = maps.Height, Width = maps.Width, DataSha256 = put.Sha256,
        };
    }
}
