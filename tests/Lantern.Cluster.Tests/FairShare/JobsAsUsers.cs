using Akka.Actor;
using Akka.Hosting;
using Lantern.Cluster.Tests.Support;
using Lantern.Contracts.Api;
using Lantern.Contracts.Cluster;
using Lantern.Contracts.Messages;
using Lantern.Gateway.Mapping;
using Microsoft.Extensions.DependencyInjection;

namespace Lantern.Cluster.Tests.FairShare;

/// <summary>
/// Test-only: submits a job on an open test node as a given user. The gateway's mapping builds the spec exactly as for
/// SubmitJob; the owner and team, which on a real node come from the caller's API key, are set here and the job goes
/// straight to its entity. No client can reach this path.
/// </summary>
public static class JobsAsUsers
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(30);

    public static async Task<string> SubmitAsAsync(this TestNode node, string owner, SubmitJobRequest request, string team = "")
    {
        var spec = await node.Services.GetRequiredService<JobRequestMapping>().ToSpecAsync(request, CancellationToken.None);
        spec.Owner = owner;
        spec.Team = team;
        var jobId = Guid.NewGuid().ToString("N");
        await Region(node).Ask<JobStatusResult>(new StartJob
        {
            JobId = jobId, Spec = spec, SubmittedUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
        }, AskTimeout);
        return jobId;
    }

    /// <summary>The job's progress straight from its entity: no gateway polling interval between the job and the test.</summary>
    public static async Task<JobProgress> ProgressAsync(this TestNode node, string jobId) =>
        (await Region(node).Ask<JobStatusResult>(new GetJobStatus { JobId = jobId }, AskTimeout)).Progress;

    private static IActorRef Region(TestNode node) => node.Services.GetRequiredService<IRequiredActor<JobRegionKey>>().ActorRef;
}
