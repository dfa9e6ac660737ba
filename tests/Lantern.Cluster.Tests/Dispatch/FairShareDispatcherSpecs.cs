using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit;
using Lantern.Contracts.Messages;
using Lantern.Coordinator.Dispatch;
using Lantern.Coordinator.Hosting;

namespace Lantern.Cluster.Tests.Dispatch;

/// <summary>The dispatcher actor leases in fair-share order: probes stand in for a worker and for the job region.</summary>
public sealed class FairShareDispatcherSpecs : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(5);

    private IActorRef Dispatcher(FairShareWeights weights) =>
        Sys.ActorOf(DispatcherActor.PropsFor(CreateTestProbe("job-region").Ref, new CoordinatorOptions
        {
            LeaseTimeout = TimeSpan.FromMinutes(10), LeaseReportGrace = TimeSpan.FromMinutes(10), FairShare = weights,
        }));

    private static OfferWork Offer(string jobId, string owner, int items, int priority = 0) => new()
    {
        Work = new WorkSpec { JobId = jobId, Spec = new JobSpec { Owner = owner, Priority = priority }, Targets = { 0 } },
        Items = { Enumerable.Range(0, items).Select(i => new WorkItem { First = i * 16L, Count = 16 }) },
    };

    /// <summary>A worker that holds one lease at a time completes <paramref name="count"/> of them, in the order given.</summary>
    private static List<WorkLeased> Work(IActorRef dispatcher, TestProbe worker, int count)
    {
        var leases = new List<WorkLeased>();
        dispatcher.Tell(new RequestWork { Capacity = 1 }, worker.Ref);
        for (var i = 0; i < count; i++)
        {
            var lease = worker.ExpectMsg<WorkLeased>(Soon);
            leases.Add(lease);
            dispatcher.Tell(new WorkCompleted { LeaseId = lease.LeaseId, JobId = lease.Work.JobId, Item = lease.Item, Scores = { 0f } },
                worker.Ref);
        }
        return leases;
    }

    [Fact]
    public void A_worker_is_shared_two_to_one_between_users_weighted_two_to_one()
    {
        var dispatcher = Dispatcher(new FairShareWeights
        {
            Users = ImmutableDictionary<string, double>.Empty.Add("alice", 2).Add("bob", 1),
        });
        dispatcher.Tell(Offer("a1", "alice", 40));
        dispatcher.Tell(Offer("a2", "alice", 40));
        dispatcher.Tell(Offer("b1", "bob", 40));

        var leases = Work(dispatcher, CreateTestProbe("worker"), 30);

        Assert.Equal(20, leases.Count(l => l.Work.Spec.Owner == "alice"));
        Assert.Equal(10, leases.Count(l => l.Work.Spec.Owner == "bob"));
    }

    [Fact]
    public void A_later_users_job_is_leased_beside_an_earlier_users_big_job_not_after_it()
    {
        var dispatcher = Dispatcher(FairShareWeights.Equal);
        var worker = CreateTestProbe("worker");
        dispatcher.Tell(Offer("big", "alice", 60));
        Work(dispatcher, worker, 10);              // alice alone

        dispatcher.Tell(Offer("small", "bob", 5));
        var next = Work(dispatcher, worker, 10);

        // The worker already held alice's next lease when bob's job came; bob's items go right after it, alternating.
        Assert.Equal(["big", "small", "big", "small", "big", "small", "big", "small", "big", "small"],
            next.Select(l => l.Work.JobId));
    }

    [Fact]
    public void A_users_higher_priority_job_overtakes_their_earlier_job()
    {
        var dispatcher = Dispatcher(FairShareWeights.Equal);
        var worker = CreateTestProbe("worker");
        dispatcher.Tell(Offer("early", "alice", 20));
        Work(dispatcher, worker, 2);

        dispatcher.Tell(Offer("urgent", "alice", 3, priority: 5));
        var next = Work(dispatcher, worker, 5);

        // The first was leased before the urgent job came.
        Assert.Equal(["early", "urgent", "urgent", "urgent", "early"], next.Select(l => l.Work.JobId));
    }
}
