using Lantern.Contracts.Api;
using Lantern.Contracts.Messages;

namespace Lantern.Gateway.Mapping;

/// <summary>Between the public ListJobs messages and the job index's query and rows.</summary>
public static class JobListMapping
{
    public static QueryJobIndex ToQuery(ListJobsRequest request, IndexViewer viewer)
    {
        if (request.PageSize < 0) GrpcErrors.InvalidArgument($"page_size must be positive, got {request.PageSize}");
        if (request.SubmittedAfterUnixMs < 0 || request.SubmittedBeforeUnixMs < 0)
            GrpcErrors.InvalidArgument("submitted_after_unix_ms and submitted_before_unix_ms are Unix times in milliseconds, not negative");
        if (request.PageToken.Length > 512) GrpcErrors.InvalidArgument("page_token is not one a listing returned; start again without it");
        var query = new QueryJobIndex
        {
            Viewer = viewer, PageSize = request.PageSize, PageToken = request.PageToken, Owner = request.Owner,
            ModelSha256 = request.ModelSha256, SubmittedAfterUnixMs = request.SubmittedAfterUnixMs,
            SubmittedBeforeUnixMs = request.SubmittedBeforeUnixMs, ParentJobId = request.ParentJobId,
        };
        foreach (var state in request.States)
        {
            query.Phases.Add(state switch
            {
                JobState.Queued => IndexedJobPhase.Queued,
                JobState.Running => IndexedJobPhase.Running,
                JobState.Done => IndexedJobPhase.Done,
                JobState.Failed => IndexedJobPhase.Failed,
                JobState.Cancelled => IndexedJobPhase.Cancelled,
                _ => GrpcErrors.InvalidArgument<IndexedJobPhase>($"states: {state} is not a job state to filter by"),
            });
        }
        return query;
    }

    public static ListJobsResponse ToApi(JobIndexPage page) => new()
    {
        Jobs = { page.Rows.Select(ToApi) },
        NextPageToken = page.NextPageToken,
    };

    public static JobProgress ToApi(JobIndexRow row) => new()
    {
        JobId = row.JobId,
        State = row.Phase switch
        {
            IndexedJobPhase.Queued => JobState.Queued,
            IndexedJobPhase.Running => JobState.Running,
            IndexedJobPhase.Done => JobState.Done,
            IndexedJobPhase.Failed => JobState.Failed,
            IndexedJobPhase.Cancelled => JobState.Cancelled,
            _ => JobState.Unspecified,
        },
        ItemsDone = row.ItemsDone, ItemsTotal = row.ItemsTotal, Evaluations = row.Evaluations,
        EvaluationsTotal = row.EvaluationsTotal, Error = row.Error, Name = row.Name,
        SubmittedUnixMs = row.SubmittedUnixMs, FinishedUnixMs = row.FinishedUnixMs, Method = row.Method,
        ModelSha256 = row.ModelSha256, ImageSha256 = row.ImageSha256, Owner = row.Owner, Team = row.Team,
        Priority = row.Priority, ParentJobId = row.ParentJobId, Dataset = row.Dataset, ImagesDone = row.ImagesDone,
        ImagesTotal = row.ImagesTotal, ImagesFailed = row.ImagesFailed,
    };
}
