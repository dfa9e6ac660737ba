using System.Text.Json;
using System.Text.Json.Nodes;
using Lantern.Contracts.Messages;
using Lantern.Explainers.Scoring;
using Lantern.Methods;

namespace Lantern.Coordinator.Jobs;

/// <summary>The job's summary.json: model output, targets, parameters, timings, evaluations and the nodes that worked.</summary>
public static class JobSummary
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static string Build(JobState state, IExplanationMethod method, MethodOutput output, long finishedUnixMs)
    {
        var spec = state.Spec!;
        var probabilities = spec.Probabilities(state.Baseline);
        var baselineTargets = state.BaselineTargetScores();
        var computeSeconds = (finishedUnixMs - state.FirstItemUnixMs) / 1000.0;

        var summary = new JsonObject
        {
            ["job_id"] = state.JobId,
            ["name"] = spec.Name,
            ["method"] = method.Name,
            ["model"] = new JsonObject
            {
                ["sha256"] = spec.ModelSha256,
                ["class_count"] = spec.ClassCount,
                ["preprocessing"] = JsonNode.Parse(Google.Protobuf.JsonFormatter.Default.Format(spec.Preprocessing)),
            },
            ["image"] = new JsonObject
            {
                ["sha256"] = spec.ImageSha256, ["width"] = spec.ImageWidth, ["height"] = spec.ImageHeight,
            },
            ["parameters"] = Parameters(state, method),
            ["top_classes"] = new JsonArray([.. Scores.TopK(probabilities, Math.Min(5, probabilities.Length)).Select(c => (JsonNode)new JsonObject
            {
                ["class"] = c, ["label"] = spec.LabelOf(c), ["probability"] = probabilities[c], ["output"] = state.Baseline[c],
            })]),
            ["targets"] = new JsonArray([.. state.Targets.Select((c, i) => (JsonNode)new JsonObject
            {
                ["class"] = spec.ClassOf(c), ["label"] = spec.Describe(c), ["score"] = baselineTargets[i],
                ["region"] = TargetRegions.IsRegion(c) ? JsonNode.Parse(Google.Protobuf.JsonFormatter.Default.Format(spec.Targets.Regions[TargetRegions.RegionIndex(c)])) : null,
            })]),
            ["per_target"] = output.PerTarget,
            ["evaluations"] = state.Evaluations,
            ["work_items"] = state.WorkItemCount + 1,
            ["workers"] = new JsonArray([.. state.Workers.Select(w => (JsonNode)w)]),
            ["timings"] = new JsonObject
            {
                ["submitted_utc"] = Utc(state.SubmittedUnixMs),
                ["started_utc"] = Utc(state.FirstItemUnixMs),
                ["finished_utc"] = Utc(finishedUnixMs),
                ["total_seconds"] = (finishedUnixMs - state.SubmittedUnixMs) / 1000.0,
                ["compute_seconds"] = computeSeconds,
                ["evaluations_per_second"] = computeSeconds > 0 ? Math.Round(state.Evaluations / computeSeconds, 1) : 0,
            },
        };
        return summary.ToJsonString(Indented);
    }

    private static JsonObject Parameters(JobState state, IExplanationMethod method)
    {
        var spec = state.Spec!;
        var parameters = method.Parameters();
        parameters["targets"] = spec.Targets.Regions.Count > 0
            ? new JsonObject { ["regions"] = spec.Targets.Regions.Count }
            : spec.Targets.Classes.Count > 0
            ? new JsonObject { ["classes"] = new JsonArray([.. spec.Targets.Classes.Select(c => (JsonNode)c)]) }
            : new JsonObject { ["top_k"] = Math.Max(1, spec.Targets.TopK) };
        parameters["score"] = spec.AppliesSoftmax() ? "probability" : "model output";
        parameters["seed"] = spec.Seed;
        if (spec.GradientIo is { } gradient)
        {
            parameters["gradient_target_tensor"] = gradient.TargetTensor;
            parameters["gradient_model_notes"] = new JsonArray([.. gradient.Notes.Select(n => (JsonNode)n)]);
        }
        parameters["work_item_size"] = state.WorkItemSize;
        parameters["eval_batch"] = state.Spec!.EvalBatch; // 0: each worker's own largest batch (none was configured)
        if (state.IsAdaptive)
        {
            // The job's perturbation indices include the gaps that start each step at a work-item boundary.
            parameters["windows_evaluated"] = state.PlanSelected;
            parameters["windows_total"] = state.PlanPerturbations;
            parameters["perturbations_used"] = state.PlanSelected;
            parameters["stopped_early"] = false;
            return parameters;
        }
        parameters["perturbations_used"] = state.PerturbationsUsed;
        parameters["stopped_early"] = state.PerturbationsUsed < state.PerturbationCount;
        return parameters;
    }

    private static string Utc(long unixMs) => DateTimeOffset.FromUnixTimeMilliseconds(unixMs).ToString("O");
}
