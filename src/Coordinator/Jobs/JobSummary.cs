using System.Text.Json;
using System.Text.Json.Nodes;
using Lantern.Contracts.Messages;
using Lantern.Explainers.Scoring;
using Lantern.Methods;
using Lantern.Methods.Gradients;

namespace Lantern.Coordinator.Jobs;

/// <summary>The job's summary.json: model output, targets, parameters, timings, evaluations and the nodes that worked.</summary>
public static class JobSummary
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static string Build(JobState state, IExplanationMethod method, MethodOutput output, long finishedUnixMs)
    {
        var spec = state.Spec!;
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
            ["top_classes"] = TopClasses(spec, state.Baseline),
            ["targets"] = TargetsOf(spec, state.Baseline, state.Targets),
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

    /// <summary>
    /// The summary of a job answered from a finished job's result (<see cref="JobReused"/>): the source's parameters and
    /// per-target figures (functions of the same inputs), this job's own id, name, labels and timings, no evaluations, and
    /// under "reused" where the maps came from. The source job's id and finish time are named only when this job's owner
    /// may see that job (<see cref="ReusedResult.SourceVisible"/>): another team's job id and when it ran are theirs.
    /// </summary>
    public static string Reused(string jobId, JobSpec spec, long submittedUnixMs, long finishedUnixMs, ReusedResult reuse)
    {
        var source = JsonNode.Parse(reuse.Outcome.SummaryJson)?.AsObject() ?? new JsonObject();
        float[] baseline = [.. reuse.Baseline];
        var summary = new JsonObject
        {
            ["job_id"] = jobId,
            ["name"] = spec.Name,
            ["method"] = source["method"]?.DeepClone(),
            ["model"] = source["model"]?.DeepClone(),
            ["image"] = source["image"]?.DeepClone(),
            ["parameters"] = source["parameters"]?.DeepClone(),
            ["top_classes"] = TopClasses(spec, baseline),
            ["targets"] = TargetsOf(spec, baseline, [.. reuse.Targets]),
            ["per_target"] = source["per_target"]?.DeepClone(),
            ["evaluations"] = 0,
            ["work_items"] = 0,
            ["workers"] = new JsonArray(),
            ["reused"] = new JsonObject
            {
                ["job_id"] = reuse.SourceVisible ? reuse.SourceJobId : null,
                ["finished_utc"] = reuse.SourceVisible ? Utc(reuse.SourceFinishedUnixMs) : null,
                ["evaluations"] = reuse.SourceEvaluations,
                ["note"] = reuse.SourceVisible
                    ? "answered from this finished job with the same inputs; nothing was computed again"
                    : "answered from a finished job with the same inputs that you cannot see; nothing was computed again",
            },
            ["timings"] = new JsonObject
            {
                ["submitted_utc"] = Utc(submittedUnixMs),
                ["started_utc"] = null,
                ["finished_utc"] = Utc(finishedUnixMs),
                ["total_seconds"] = (finishedUnixMs - submittedUnixMs) / 1000.0,
                ["compute_seconds"] = 0.0,
                ["evaluations_per_second"] = 0,
            },
        };
        return summary.ToJsonString(Indented);
    }

    /// <summary>The model's top five classes for the unperturbed image, labelled with the spec's labels.</summary>
    private static JsonArray TopClasses(JobSpec spec, float[] baseline)
    {
        var probabilities = spec.Probabilities(baseline);
        return new JsonArray([.. Scores.TopK(probabilities, Math.Min(5, probabilities.Length)).Select(c => (JsonNode)new JsonObject
        {
            ["class"] = c, ["label"] = spec.LabelOf(c), ["probability"] = probabilities[c], ["output"] = baseline[c],
        })]);
    }

    private static JsonArray TargetsOf(JobSpec spec, float[] baseline, int[] targets)
    {
        var baselineTargets = JobState.TargetScoresOf(spec, baseline, targets);
        var channels = DeepDreamMethod.DreamsChannels(spec);
        return new JsonArray([.. targets.Select((c, i) => (JsonNode)new JsonObject
        {
            [channels ? "channel" : "class"] = spec.ClassOf(c), ["label"] = channels ? DeepDreamMethod.ChannelLabel(spec, c) : spec.Describe(c),
            ["score"] = float.IsFinite(baselineTargets[i]) ? baselineTargets[i] : null, // null: not a value of the model's output
            ["region"] = TargetRegions.IsRegion(c) ? JsonNode.Parse(Google.Protobuf.JsonFormatter.Default.Format(spec.Targets.Regions[TargetRegions.RegionIndex(c)])) : null,
        })]);
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
        parameters["eval_batch"] = state.Spec!.EvalBatch; // configured, else its baseline worker's best; 0: each worker's largest (older workers)
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
