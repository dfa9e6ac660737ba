using Lantern.Contracts.Messages;

namespace Lantern.Contracts.Cluster;

/// <summary>
/// Makes the job spec that explains one image of a dataset job: the template with that image and what depends on it (its
/// size, a feature method's segmentation), checked as a submitted job would be. The gateway's request mapping implements
/// it (every node that carries the coordinator role has it), so a dataset's image is explained exactly as the same
/// image submitted alone.
/// </summary>
public interface IDatasetImagePlanner
{
    /// <param name="imageJobId">The id the image's job will have (recorded as the dataset job owner's).</param>
    /// <exception cref="ImageNotExplainableException">This image cannot be explained with the job's options.</exception>
    Task<JobSpec> PlanAsync(JobSpec template, DatasetImage image, string imageJobId, CancellationToken cancellationToken);
}

/// <summary>Why one image of a dataset job cannot be explained (e.g. smaller than the occlusion window): that image fails, the rest run.</summary>
public sealed class ImageNotExplainableException(string reason) : Exception(reason);
