using Akka.Cluster.Sharding;
using Lantern.Contracts.Messages;

namespace Lantern.Coordinator.Jobs;

/// <summary>Routes job commands to their entity by job id.</summary>
public sealed class JobMessageExtractor(int maxNumberOfShards = 100) : HashCodeMessageExtractor(maxNumberOfShards)
{
    public override string? EntityId(object message) => message switch
    {
        IJobCommand command => command.JobId,
        _ => null,
    };
}
