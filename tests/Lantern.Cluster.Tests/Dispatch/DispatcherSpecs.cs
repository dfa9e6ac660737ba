using Akka.Actor;
using Akka.TestKit;
using Lantern.Contracts.Messages;
using Lantern.Coordinator.Dispatch;
using Lantern.Coordinator.Hosting;

namespace Lantern.Cluster.Tests.Dispatch;

/// <summary>The work-pulling dispatcher, with probes standing in for workers and for the job region.</summary>
public sealed class DispatcherSpecs : Akka.TestKit.Xunit2.TestKit
{
    /// <summary>How long to wait for a message that should come; a lease timeout re-issues within a 1 s timer tick.</summary>
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(5);

    /// <summary>How long to listen for a message that must not come: the dispatcher answers synchronously, so this is ample.</summary>
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(300);

    private readonly TestProbe _region;

    public DispatcherSpecs() => _region = CreateTestProbe("job-region");

    private IActorRef Dispatcher(TimeSpan? leaseTimeout = null, TimeSpan? reportGrace = null) =>
        Sys.ActorOf(DispatcherActor.PropsFor(_region.Ref, new CoordinatorOptions
        {
            LeaseTimeout = leaseTimeout ?? TimeSpan.FromMinutes(10),
            LeaseReportGrace = reportGrace ?? TimeSpan.FromMinutes(10),
        }));

    private const string Model = "model-a";

    private static WorkSpec Work(string jobId) =>
        new() { JobId = jobId, Spec = new JobSpec { Name = jobId, ModelSha256 = Model }, Targets = { 1 } };

    private static WorkItem Item(long first) => new() { First = first, Count = 4 };

    private static OfferWork Offer(string jobId, params long[] firsts) =>
        new() { Work = Work(jobId), Items = { firsts.Select(Item) } };

    private TestProbe Worker(IActorRef dispatcher, int capacity, string name)
    {
        var worker = CreateTestProbe(name);
        dispatcher.Tell(new RequestWork { Capacity = capacity }, worker.Ref);
        return worker;
    }

    /// <summary>A worker that reports it has the jobs' model loaded.</summary>
    private TestProbe WorkerHoldingModel(IActorRef dispatcher, int capacity, string name)
    {
        var worker = CreateTestProbe(name);
        dispatcher.Tell(new RequestWork { Capacity = capacity, Models = { Model } }, worker.Ref);
        return worker;
    }

    private static WorkCompleted Completed(WorkLeased lease, string worker) => new()
    {
        LeaseId = lease.LeaseId, JobId = lease.Work.JobId, Item = lease.Item, Scores = { 1f, 2f, 3f, 4f }, Worker = worker,
    };

    [Fact]
    public void An_offered_item_goes_to_a_worker_that_asked_for_work()
    {
        var dispatcher = Dispatcher();
        var worker = Worker(dispatcher, capacity: 1, "worker");

        dispatcher.Tell(Offer("job-a", 0));

        var lease = worker.ExpectMsg<WorkLeased>(Soon);
        Assert.Equal("job-a", lease.Work.JobId);
        Assert.Equal(Item(0), lease.Item);
        Assert.Equal([1], lease.Work.Targets);
    }

    [Fact]
    public void Work_offered_before_any_worker_asked_is_leased_when_one_asks()
    {
        var dispatcher = Dispatcher();
        dispatcher.Tell(Offer("job-a", 0));

        var worker = Worker(dispatcher, capacity: 1, "worker");

        Assert.Equal(Item(0), worker.ExpectMsg<WorkLeased>(Soon).Item);
    }

    [Fact]
    public void A_worker_never_holds_more_leases_than_its_capacity()
    {
        var dispatcher = Dispatcher();
        var worker = Worker(dispatcher, capacity: 2, "worker");

        dispatcher.Tell(Offer("job-a", 0, 4, 8, 12, 16));

        var first = worker.ExpectMsg<WorkLeased>(Soon);
        worker.ExpectMsg<WorkLeased>(Soon);
        worker.ExpectNoMsg(Quiet);

        dispatcher.Tell(Completed(first, "worker"), worker.Ref);

        Assert.Equal(Item(8), worker.ExpectMsg<WorkLeased>(Soon).Item);
        worker.ExpectNoMsg(Quiet);
    }

    [Fact]
    public void Items_of_concurrent_jobs_are_served_round_robin()
    {
        var dispatcher = Dispatcher();
        dispatcher.Tell(Offer("job-a", 0, 4, 8));
        dispatcher.Tell(Offer("job-b", 0, 4, 8));

        var worker = Worker(dispatcher, capacity: 6, "worker");

        var leased = Enumerable.Range(0, 6).Select(_ => worker.ExpectMsg<WorkLeased>(Soon))
            .Select(l => (l.Work.JobId, l.Item.First)).ToList();
        Assert.Equal(
            [("job-a", 0L), ("job-b", 0L), ("job-a", 4L), ("job-b", 4L), ("job-a", 8L), ("job-b", 8L)],
            leased);
    }

    [Fact]
    public void The_same_item_offered_twice_is_queued_once()
    {
        var dispatcher = Dispatcher();
        dispatcher.Tell(Offer("job-a", 0));
        dispatcher.Tell(Offer("job-a", 0));

        var worker = Worker(dispatcher, capacity: 5, "worker");

        Assert.Equal(Item(0), worker.ExpectMsg<WorkLeased>(Soon).Item);
        worker.ExpectNoMsg(Quiet);
    }

    [Fact]
    public void An_item_offered_again_while_it_is_leased_is_not_leased_twice()
    {
        var dispatcher = Dispatcher();
        var worker = Worker(dispatcher, capacity: 5, "worker");
        dispatcher.Tell(Offer("job-a", 0));
        worker.ExpectMsg<WorkLeased>(Soon);

        dispatcher.Tell(Offer("job-a", 0));

        worker.ExpectNoMsg(Quiet);
    }

    [Fact]
    public void When_a_worker_terminates_its_leases_are_reissued_to_another_worker()
    {
        var dispatcher = Dispatcher();
        var doomed = Worker(dispatcher, capacity: 2, "doomed");
        dispatcher.Tell(Offer("job-a", 0, 4));
        var lost = new[] { doomed.ExpectMsg<WorkLeased>(Soon), doomed.ExpectMsg<WorkLeased>(Soon) };
        var survivor = Worker(dispatcher, capacity: 2, "survivor");

        Sys.Stop(doomed.Ref);

        var reissued = new[] { survivor.ExpectMsg<WorkLeased>(Soon), survivor.ExpectMsg<WorkLeased>(Soon) };
        Assert.Equal(lost.Select(l => l.Item).OrderBy(i => i.First), reissued.Select(l => l.Item).OrderBy(i => i.First));
        Assert.Empty(reissued.Select(l => l.LeaseId).Intersect(lost.Select(l => l.LeaseId)));
    }

    [Fact]
    public void A_timed_out_lease_keeps_its_worker_busy_until_the_worker_reports_it_no_longer_holds_it()
    {
        var dispatcher = Dispatcher(leaseTimeout: TimeSpan.FromMilliseconds(200), reportGrace: TimeSpan.Zero);
        var worker = Worker(dispatcher, capacity: 1, "worker");
        dispatcher.Tell(Offer("job-a", 0));
        var first = worker.ExpectMsg<WorkLeased>(Soon);

        // Still holding it (slow, not dead): the re-queued item must not pile onto the same worker.
        dispatcher.Tell(new RequestWork { Capacity = 1, HeldLeaseIds = { first.LeaseId } }, worker.Ref);
        worker.ExpectNoMsg(Quiet);

        dispatcher.Tell(new RequestWork { Capacity = 1 }, worker.Ref);
        var again = worker.ExpectMsg<WorkLeased>(Soon);
        Assert.Equal(first.Item, again.Item);
        Assert.NotEqual(first.LeaseId, again.LeaseId);
    }

    [Fact]
    public void A_lease_its_worker_never_received_is_reissued_when_the_worker_reports_without_it()
    {
        var dispatcher = Dispatcher(reportGrace: TimeSpan.Zero);
        var worker = Worker(dispatcher, capacity: 1, "worker");
        dispatcher.Tell(Offer("job-a", 0));
        var lost = worker.ExpectMsg<WorkLeased>(Soon); // pretend the message was lost on the way

        dispatcher.Tell(new RequestWork { Capacity = 1 }, worker.Ref);

        var reissued = worker.ExpectMsg<WorkLeased>(Soon);
        Assert.Equal(lost.Item, reissued.Item);
        Assert.NotEqual(lost.LeaseId, reissued.LeaseId);
    }

    [Fact]
    public void A_lease_that_times_out_goes_to_another_worker_when_one_has_room()
    {
        // CoordinatorOptions.LeaseTimeout: "A lease not answered in this time is re-issued to another worker."
        var dispatcher = Dispatcher(leaseTimeout: TimeSpan.FromMilliseconds(200));
        var stuck = Worker(dispatcher, capacity: 1, "stuck");
        dispatcher.Tell(Offer("job-a", 0));
        var first = stuck.ExpectMsg<WorkLeased>(Soon);
        var idle = Worker(dispatcher, capacity: 1, "idle");

        var reissued = idle.ExpectMsg<WorkLeased>(Soon);

        Assert.Equal(first.Item, reissued.Item);
        stuck.ExpectNoMsg(Quiet);
    }

    [Fact]
    public void A_completed_item_is_forwarded_to_the_job_region_as_ScoreWorkItem()
    {
        var dispatcher = Dispatcher();
        var worker = Worker(dispatcher, capacity: 1, "worker");
        dispatcher.Tell(Offer("job-a", 4));
        var lease = worker.ExpectMsg<WorkLeased>(Soon);

        dispatcher.Tell(Completed(lease, "worker-1"), worker.Ref);

        var score = _region.ExpectMsg<ScoreWorkItem>(Soon);
        Assert.Equal("job-a", score.JobId);
        Assert.Equal(Item(4), score.Item);
        Assert.Equal([1f, 2f, 3f, 4f], score.Scores);
        Assert.Equal("worker-1", score.Worker);
        Assert.Equal("", score.Error);
    }

    [Fact]
    public void A_failed_item_is_forwarded_to_the_job_region_with_its_reason()
    {
        var dispatcher = Dispatcher();
        var worker = Worker(dispatcher, capacity: 1, "worker");
        dispatcher.Tell(Offer("job-a", 4));
        var lease = worker.ExpectMsg<WorkLeased>(Soon);

        dispatcher.Tell(new WorkFailed { LeaseId = lease.LeaseId, JobId = "job-a", Item = lease.Item, Reason = "bad model" }, worker.Ref);

        var score = _region.ExpectMsg<ScoreWorkItem>(Soon);
        Assert.Equal(("job-a", Item(4), "bad model"), (score.JobId, score.Item, score.Error));
    }

    [Fact]
    public void A_late_duplicate_completion_of_a_reissued_item_is_still_forwarded_for_the_job_to_deduplicate()
    {
        var dispatcher = Dispatcher();
        var slow = Worker(dispatcher, capacity: 1, "slow");
        dispatcher.Tell(Offer("job-a", 0));
        var original = slow.ExpectMsg<WorkLeased>(Soon);
        var other = Worker(dispatcher, capacity: 1, "other");
        Sys.Stop(slow.Ref);
        var reissued = other.ExpectMsg<WorkLeased>(Soon);

        dispatcher.Tell(Completed(reissued, "other"), other.Ref);
        dispatcher.Tell(Completed(original, "slow"), ActorRefs.NoSender);

        Assert.Equal("other", _region.ExpectMsg<ScoreWorkItem>(Soon).Worker);
        var late = _region.ExpectMsg<ScoreWorkItem>(Soon);
        Assert.Equal(("job-a", Item(0), "slow"), (late.JobId, late.Item, late.Worker));
    }

    [Fact]
    public void Withdrawing_a_job_drops_its_queued_items()
    {
        var dispatcher = Dispatcher();
        dispatcher.Tell(Offer("job-a", 0, 4, 8));
        dispatcher.Tell(Offer("job-b", 0));

        dispatcher.Tell(new WithdrawJob { JobId = "job-a" });
        var worker = Worker(dispatcher, capacity: 5, "worker");

        var lease = worker.ExpectMsg<WorkLeased>(Soon);
        Assert.Equal(("job-b", 0L), (lease.Work.JobId, lease.Item.First));
        worker.ExpectNoMsg(Quiet);
    }

    [Fact]
    public void A_worker_that_asks_again_with_more_capacity_gets_more_work()
    {
        var dispatcher = Dispatcher();
        var worker = Worker(dispatcher, capacity: 1, "worker");
        dispatcher.Tell(Offer("job-a", 0, 4, 8));
        worker.ExpectMsg<WorkLeased>(Soon);
        worker.ExpectNoMsg(Quiet);

        dispatcher.Tell(new RequestWork { Capacity = 3 }, worker.Ref);

        Assert.Equal([Item(4), Item(8)], new[] { worker.ExpectMsg<WorkLeased>(Soon).Item, worker.ExpectMsg<WorkLeased>(Soon).Item });
        worker.ExpectNoMsg(Quiet);
    }

    [Fact]
    public void A_worker_that_leaves_gracefully_has_its_leases_handed_to_another_worker_at_once()
    {
        var dispatcher = Dispatcher();
        var leaving = Worker(dispatcher, capacity: 2, "leaving");
        dispatcher.Tell(Offer("job-a", 0, 4));
        var held = new[] { leaving.ExpectMsg<WorkLeased>(Soon), leaving.ExpectMsg<WorkLeased>(Soon) };
        var staying = Worker(dispatcher, capacity: 2, "staying");

        dispatcher.Tell(new WorkerLeaving { HeldLeaseIds = { held.Select(l => l.LeaseId) } }, leaving.Ref);

        var taken = new[] { staying.ExpectMsg<WorkLeased>(Soon), staying.ExpectMsg<WorkLeased>(Soon) };
        Assert.Equal(held.Select(l => l.Item.First).Order(), taken.Select(l => l.Item.First).Order());
        leaving.ExpectNoMsg(Quiet);
    }

    [Fact]
    public void A_worker_that_already_holds_the_jobs_model_is_preferred()
    {
        var dispatcher = Dispatcher();
        var cold = CreateTestProbe("cold");
        var warm = CreateTestProbe("warm");
        dispatcher.Tell(new RequestWork { Capacity = 4 }, cold.Ref);
        dispatcher.Tell(new RequestWork { Capacity = 1, Models = { "model-of-job-a" } }, warm.Ref);
        var work = Work("job-a");
        work.Spec.ModelSha256 = "model-of-job-a";

        dispatcher.Tell(new OfferWork { Work = work, Items = { Item(0), Item(4) } });

        Assert.Equal(0, warm.ExpectMsg<WorkLeased>(Soon).Item.First); // the warm worker first, despite less room
        Assert.Equal(4, cold.ExpectMsg<WorkLeased>(Soon).Item.First); // then whoever has room
    }

    [Fact]
    public void A_transient_failure_is_retried_and_only_a_persistent_one_reaches_the_job()
    {
        var dispatcher = Dispatcher();
        var worker = Worker(dispatcher, capacity: 1, "worker");
        dispatcher.Tell(Offer("job-a", 0));

        for (var attempt = 1; attempt <= 5; attempt++)
        {
            var lease = worker.ExpectMsg<WorkLeased>(Soon);
            dispatcher.Tell(new WorkFailed
            {
                LeaseId = lease.LeaseId, JobId = "job-a", Item = lease.Item, Reason = "no coordinator node is up", Transient = true,
            }, worker.Ref);
        }
        _region.ExpectNoMsg(Quiet); // five transient failures: retried, the job not bothered

        var last = worker.ExpectMsg<WorkLeased>(Soon);
        dispatcher.Tell(new WorkFailed
        {
            LeaseId = last.LeaseId, JobId = "job-a", Item = last.Item, Reason = "no coordinator node is up", Transient = true,
        }, worker.Ref);
        Assert.Equal("no coordinator node is up", _region.ExpectMsg<ScoreWorkItem>(Soon).Error);
    }

    [Fact]
    public void An_item_re_offered_while_its_result_is_on_the_way_to_the_job_is_not_evaluated_again()
    {
        var dispatcher = Dispatcher();
        var worker = Worker(dispatcher, capacity: 1, "worker");
        dispatcher.Tell(Offer("job-a", 0));
        var lease = worker.ExpectMsg<WorkLeased>(Soon);
        dispatcher.Tell(Completed(lease, "worker"), worker.Ref);
        var forwarded = _region.ExpectMsg<ScoreWorkItem>(Soon);
        Assert.True(forwarded.ResultStamp > 0);

        // The job's periodic re-offer, made before it handled that result (it has seen no result yet): the item crossed
        // its own result and is not leased again.
        dispatcher.Tell(new OfferWork { Work = Work("job-a"), Items = { Item(0), Item(4) }, ResultsSeen = 0 });
        Assert.Equal(4, worker.ExpectMsg<WorkLeased>(Soon).Item.First);
        worker.ExpectNoMsg(Quiet);
    }

    [Fact]
    public void An_item_offered_again_after_the_job_handled_its_result_is_leased_again()
    {
        var dispatcher = Dispatcher();
        var worker = Worker(dispatcher, capacity: 1, "worker");
        dispatcher.Tell(Offer("job-a", 0));
        var lease = worker.ExpectMsg<WorkLeased>(Soon);
        dispatcher.Tell(Completed(lease, "worker"), worker.Ref);
        var stamp = _region.ExpectMsg<ScoreWorkItem>(Soon).ResultStamp;

        // The job handled that result and still offers the item (the result did not count, e.g. it was lost in a move):
        // the offer is honoured.
        dispatcher.Tell(new OfferWork { Work = Work("job-a"), Items = { Item(0) }, ResultsSeen = stamp });
        Assert.Equal(0, worker.ExpectMsg<WorkLeased>(Soon).Item.First);
    }

    [Fact]
    public void Withdrawing_a_job_tells_each_worker_which_of_its_leases_to_stop_and_frees_their_capacity_at_once()
    {
        var dispatcher = Dispatcher();
        var worker = Worker(dispatcher, capacity: 2, "worker");
        dispatcher.Tell(Offer("job-a", 0, 4, 8));
        var held = new[] { worker.ExpectMsg<WorkLeased>(Soon), worker.ExpectMsg<WorkLeased>(Soon) };
        dispatcher.Tell(Offer("job-b", 0));

        dispatcher.Tell(new WithdrawJob { JobId = "job-a" });

        var withdrawn = worker.ExpectMsg<LeasesWithdrawn>(Soon);
        Assert.Equal("job-a", withdrawn.JobId);
        Assert.Equal(held.Select(l => l.LeaseId).Order(), withdrawn.LeaseIds.Order());
        var next = worker.ExpectMsg<WorkLeased>(Soon); // its room is free without waiting for the stopped items
        Assert.Equal("job-b", next.Work.JobId);
        worker.ExpectNoMsg(Quiet); // job-a's queued item 8 went with the job
    }

    [Fact]
    public void With_nothing_queued_a_busy_workers_newest_lease_moves_to_an_idle_worker_that_holds_the_model()
    {
        var dispatcher = Dispatcher();
        var busy = Worker(dispatcher, capacity: 3, "busy");
        dispatcher.Tell(Offer("job-a", 0, 4, 8));
        var held = Enumerable.Range(0, 3).Select(_ => busy.ExpectMsg<WorkLeased>(Soon)).ToList();

        // The end of the job: the busy worker runs item 0 with 4 and 8 behind it, and another worker has nothing to do.
        var idle = WorkerHoldingModel(dispatcher, capacity: 3, "idle");

        Assert.Equal([held[2].LeaseId], busy.ExpectMsg<LeasesWithdrawn>(Soon).LeaseIds);
        var moved = idle.ExpectMsg<WorkLeased>(Soon);
        Assert.Equal(Item(8), moved.Item);
        Assert.NotEqual(held[2].LeaseId, moved.LeaseId);
        busy.ExpectNoMsg(Quiet); // two against one: moving another would not end the job sooner
        idle.ExpectNoMsg(Quiet);

        // Item 8 done: the idle worker is idle again while the busy one still has item 4 queued behind item 0.
        dispatcher.Tell(Completed(moved, "idle"), idle.Ref);
        Assert.Equal(Item(8), _region.ExpectMsg<ScoreWorkItem>(Soon).Item);
        Assert.Equal([held[1].LeaseId], busy.ExpectMsg<LeasesWithdrawn>(Soon).LeaseIds);
        Assert.Equal(Item(4), idle.ExpectMsg<WorkLeased>(Soon).Item);
        busy.ExpectNoMsg(Quiet);
    }

    [Fact]
    public void No_lease_moves_to_a_worker_that_would_first_have_to_load_the_model()
    {
        var dispatcher = Dispatcher();
        var busy = Worker(dispatcher, capacity: 3, "busy");
        dispatcher.Tell(Offer("job-a", 0, 4, 8));
        for (var i = 0; i < 3; i++) busy.ExpectMsg<WorkLeased>(Soon);

        var idle = Worker(dispatcher, capacity: 3, "idle"); // reports no model held

        busy.ExpectNoMsg(Quiet);
        idle.ExpectNoMsg(Quiet);
    }

    [Fact]
    public void A_worker_that_returned_an_item_of_a_job_counts_as_holding_its_model_before_its_next_report()
    {
        var dispatcher = Dispatcher();
        var first = Worker(dispatcher, capacity: 1, "first");
        dispatcher.Tell(Offer("job-a", 0));
        var lease = first.ExpectMsg<WorkLeased>(Soon);
        dispatcher.Tell(Completed(lease, "first"), first.Ref); // it has loaded the model now, but not said so
        _region.ExpectMsg<ScoreWorkItem>(Soon);

        var busy = Worker(dispatcher, capacity: 3, "busy");
        dispatcher.Tell(Offer("job-a", 4, 8, 12, 16));
        // The first worker takes one item (room 1), the busy one three; the first finishes and is given the busy one's newest.
        var firstSecond = first.ExpectMsg<WorkLeased>(Soon);
        var busyHeld = Enumerable.Range(0, 3).Select(_ => busy.ExpectMsg<WorkLeased>(Soon)).ToList();
        dispatcher.Tell(Completed(firstSecond, "first"), first.Ref);

        Assert.Equal([busyHeld.MaxBy(l => l.LeaseId)!.LeaseId], busy.ExpectMsg<LeasesWithdrawn>(Soon).LeaseIds);
        Assert.Equal(busyHeld.MaxBy(l => l.LeaseId)!.Item, first.ExpectMsg<WorkLeased>(Soon).Item);
    }

    [Fact]
    public void The_first_result_of_an_item_stops_its_other_lease_and_frees_that_workers_room()
    {
        var dispatcher = Dispatcher(leaseTimeout: TimeSpan.FromMilliseconds(200));
        var slow = Worker(dispatcher, capacity: 1, "slow");
        dispatcher.Tell(Offer("job-a", 0));
        var stale = slow.ExpectMsg<WorkLeased>(Soon);

        // The lease times out and the item is re-issued to another worker, which returns it first.
        var other = Worker(dispatcher, capacity: 1, "other");
        var reissued = other.ExpectMsg<WorkLeased>(Soon);
        Assert.Equal(Item(0), reissued.Item);
        dispatcher.Tell(Completed(reissued, "other"), other.Ref);
        Assert.Equal(Item(0), _region.ExpectMsg<ScoreWorkItem>(Soon).Item);

        Assert.Equal([stale.LeaseId], slow.ExpectMsg<LeasesWithdrawn>(Soon).LeaseIds);
        // The stale lease held the slow worker's only room; it is free again: of two new items, each worker gets one.
        dispatcher.Tell(Offer("job-a", 4, 8));
        var leased = new[] { slow.ExpectMsg<WorkLeased>(Soon).Item.First, other.ExpectMsg<WorkLeased>(Soon).Item.First };
        Assert.Equal([4L, 8L], leased.Order());
    }
}
