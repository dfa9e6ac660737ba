using Grpc.Core;
using Lantern.Contracts.Cluster;
using Lantern.Contracts.Messages;
using Lantern.Storage.Users;

namespace Lantern.Gateway.Mapping;

/// <summary>
/// Plans the image jobs of dataset jobs for the coordinator's dataset-job entities (registered on every node, used where
/// the coordinator role runs): the request mapping's <see cref="JobRequestMapping.ForImageAsync"/>, and the image job
/// recorded as the dataset job owner's, so they (and their team) may fetch its maps and nobody else may.
/// </summary>
/// <param name="users">Null on an open node: nothing to record.</param>
public sealed class DatasetImagePlanner(JobRequestMapping requests, UserStore? users = null) : IDatasetImagePlanner
{
    public async Task<JobSpec> PlanAsync(JobSpec template, DatasetImage image, string imageJobId, CancellationToken cancellationToken)
    {
        JobSpec spec;
        try
        {
            spec = await requests.ForImageAsync(template, image.ImageSha256, cancellationToken);
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.InvalidArgument or StatusCode.NotFound or StatusCode.ResourceExhausted
                                         or StatusCode.FailedPrecondition)
        {
            throw new ImageNotExplainableException(e.Status.Detail);
        }
        if (users is not null && template.Owner.Length > 0)
        {
            // Recorded as finished: the dataset job, not each image's, counts against the owner's job quotas.
            await users.RecordJobAsync(new OwnedJob(imageJobId, template.Owner, template.Team, 0,
                DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), Finished: true), cancellationToken);
            await users.MarkFinishedAsync(imageJobId, cancellationToken);
        }
        return spec;
    }
}
