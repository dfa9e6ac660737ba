using Akka.Actor;
using Akka.Hosting;
using Lantern.Contracts.Cluster;
using Lantern.Contracts.Messages;
using Lantern.Gateway.Auth;
using Lantern.Gateway.Hosting;
using Lantern.Storage;
using Lantern.Storage.Users;
using ApiJobState = Lantern.Contracts.Api.JobState;

namespace Lantern.Gateway.Mapping;

/// <summary>
/// Nothing computed twice: a job whose spec has the same <see cref="JobSpecExtensions.ReuseKey"/> as a finished job's is
/// answered from that job's stored result. One memo lookup and one ask of the found job, however many jobs the cluster
/// has run. The caller has already passed the checks on its inputs (it may use the model and the image), which is all
/// reuse needs: the result is a function of those inputs, whoever asked first.
/// </summary>
/// <param name="memo">The node's memo table; null on a gateway without the database, which then never reuses.</param>
public sealed class ResultReuse(IRequiredActor<JobRegionKey> jobs, GatewayOptions options, IMemoStore? memo = null, UserStore? users = null)
{
    /// <returns>The finished job's result to answer <paramref name="spec"/> with, or null when none can.</returns>
    public async Task<ReusedResult?> FindAsync(JobSpec spec, Caller caller, CancellationToken cancellationToken)
    {
        if (memo is null) return null;
        var key = spec.ReuseKey();
        if (await memo.GetAsync(key, cancellationToken) is not { } sourceJobId) return null;
        object reply;
        try
        {
            reply = await jobs.ActorRef.Ask<object>(new GetJobResult { JobId = sourceJobId }, options.AskTimeout, cancellationToken);
        }
        catch (AskTimeoutException)
        {
            return null; // the job's coordinator is slow or away: compute instead of failing the submit
        }
        switch (reply)
        {
            case JobResultReply { Progress.State: ApiJobState.Done, Outcome: { } outcome } done when SameInputs(done.Spec, spec):
                var visible = caller.Admin || users is not null && caller.MaySee(await users.JobAsync(sourceJobId, cancellationToken));
                return new ReusedResult
                {
                    SourceJobId = sourceJobId, SourceVisible = visible, Outcome = outcome, Baseline = { done.Baseline },
                    Targets = { done.Targets }, SourceEvaluations = done.Progress.Evaluations,
                    SourceFinishedUnixMs = done.Progress.FinishedUnixMs,
                };
            case JobResultReply { Progress.State: ApiJobState.Queued or ApiJobState.Running }:
                return null; // recorded while completing: not done yet
            default:
                // Deleted (no such job), failed or cancelled: never an answer. Forget it, unless a newer job took the key.
                await memo.RemoveAsync(key, sourceJobId, cancellationToken);
                return null;
        }
    }

    /// <summary>Not only the hashes: the specs themselves agree.</summary>
    private static bool SameInputs(JobSpec? source, JobSpec spec) => source is not null && source.ReuseInputs().Equals(spec.ReuseInputs());
}
