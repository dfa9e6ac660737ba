using Lantern.Contracts.Cluster;
using Lantern.Contracts.Messages;

namespace Lantern.Coordinator.DatasetJobs;

/// <summary>A coordinator without the gateway's request mapping (a test host): dataset jobs fail each image with the reason.</summary>
public sealed class NoDatasetImagePlanner : IDatasetImagePlanner
{
    public static readonly NoDatasetImagePlanner Instance = new();

    public Task<JobSpec> PlanAsync(JobSpec template, DatasetImage image, string imageJobId, CancellationToken cancellationToken) =>
        throw new ImageNotExplainableException("this coordinator node has no request mapping to plan dataset images with");
}
