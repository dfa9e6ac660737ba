using System.Collections.Immutable;
using Lantern.Contracts.Messages;
using Lantern.Coordinator.Dispatch;

namespace Lantern.Cluster.Tests.Dispatch;

/// <summary>The dispatcher's queue order, pure: weighted fair share between users and teams, then priority, then round-robin.</summary>
public sealed class WorkQueueSpecs
{
    private static WorkSpec Work(string jobId, string owner, string team = "", int priority = 0) =>
        new() { JobId = jobId, Spec = new JobSpec { Owner = owner, Team = team, Priority = priority } };

    private static void Offer(WorkQueue queue, WorkSpec work, int items, int size = 32)
    {
        for (var i = 0; i < items; i++) queue.Enqueue(work, new WorkItem { First = (long)i * size, Count = size });
    }

    /// <summary>Evaluations leased per owner over the next <paramref name="leases"/> dequeues.</summary>
    private static Dictionary<string, long> Lease(WorkQueue queue, int leases)
    {
        var served = new Dictionary<string, long>();
        for (var i = 0; i < leases; i++)
        {
            var (work, item) = queue.Dequeue();
            served[work.Spec.Owner] = served.GetValueOrDefault(work.Spec.Owner) + WorkQueue.Evaluations(item);
        }
        return served;
    }

    private static FairShareWeights Users(params (string Name, double Weight)[] weights) =>
        new() { Users = weights.ToImmutableDictionary(w => w.Name, w => w.Weight) };

    [Fact]
    public void A_lone_user_is_served_every_item()
    {
        var queue = new WorkQueue(Users(("alice", 1), ("bob", 5)));
        Offer(queue, Work("a1", "alice"), 10);

        Assert.Equal(320, Lease(queue, 10)["alice"]);
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void Users_with_equal_weights_get_equal_evaluations_however_many_jobs_each_has()
    {
        var queue = new WorkQueue();
        Offer(queue, Work("a1", "alice"), 100);
        Offer(queue, Work("a2", "alice"), 100);
        Offer(queue, Work("a3", "alice"), 100);
        Offer(queue, Work("b1", "bob"), 100);

        var served = Lease(queue, 60);

        Assert.Equal(served["alice"], served["bob"]);
    }

    [Fact]
    public void Weights_two_to_one_split_evaluations_two_to_one()
    {
        var queue = new WorkQueue(Users(("alice", 2), ("bob", 1)));
        Offer(queue, Work("a1", "alice"), 200);
        Offer(queue, Work("b1", "bob"), 200);

        var served = Lease(queue, 150);

        Assert.Equal(100 * 32, served["alice"]);
        Assert.Equal(50 * 32, served["bob"]);
    }

    [Fact]
    public void The_share_counts_evaluations_not_items()
    {
        var queue = new WorkQueue();
        Offer(queue, Work("a1", "alice"), 100, size: 32);
        Offer(queue, Work("b1", "bob"), 100, size: 8);

        var served = Lease(queue, 50);   // 10 of alice's items, 40 of bob's

        Assert.Equal(320, served["alice"]);
        Assert.Equal(320, served["bob"]);
    }

    [Fact]
    public void Within_a_user_higher_priority_jobs_go_first_and_the_other_user_keeps_its_share()
    {
        var queue = new WorkQueue();
        Offer(queue, Work("low", "alice", priority: 0), 5);
        Offer(queue, Work("high", "alice", priority: 7), 5);
        Offer(queue, Work("b1", "bob"), 10);

        var order = Enumerable.Range(0, 20).Select(_ => queue.Dequeue().Work.JobId).ToList();

        var alices = order.Where(id => id != "b1").ToList();
        Assert.Equal(["high", "high", "high", "high", "high", "low", "low", "low", "low", "low"], alices);
        Assert.Equal(10, order.Count(id => id == "b1"));
        Assert.Equal(5, order.Take(10).Count(id => id == "b1")); // bob is not pushed back by alice's priorities
    }

    [Fact]
    public void Jobs_of_one_user_and_equal_priority_are_served_round_robin_and_each_in_order()
    {
        var queue = new WorkQueue();
        Offer(queue, Work("a1", "alice"), 3);
        Offer(queue, Work("a2", "alice"), 3);

        var order = Enumerable.Range(0, 6).Select(_ => queue.Dequeue()).Select(l => (l.Work.JobId, l.Item.First)).ToList();

        Assert.Equal([("a1", 0L), ("a2", 0L), ("a1", 32L), ("a2", 32L), ("a1", 64L), ("a2", 64L)], order);
    }

    [Fact]
    public void A_user_idle_while_another_worked_alone_banks_no_credit()
    {
        var queue = new WorkQueue();
        Offer(queue, Work("a1", "alice"), 200);
        Lease(queue, 100);                       // alice alone: the whole cluster

        Offer(queue, Work("b1", "bob"), 200);    // bob arrives: from now on, half each
        var served = Lease(queue, 20);

        Assert.Equal(320, served["alice"]);
        Assert.Equal(320, served["bob"]);
    }

    [Fact]
    public void Team_weights_share_between_teams_then_user_weights_within_a_team()
    {
        var weights = new FairShareWeights
        {
            Teams = ImmutableDictionary<string, double>.Empty.Add("vision", 2),
            Users = ImmutableDictionary<string, double>.Empty.Add("vic", 3),
        };
        var queue = new WorkQueue(weights);
        Offer(queue, Work("v1", "vic", "vision"), 400);
        Offer(queue, Work("v2", "val", "vision"), 400);
        Offer(queue, Work("n1", "nia", "nlp"), 400);

        var served = Lease(queue, 240);   // vision 2/3 (vic 3/4 of it, val 1/4), nlp 1/3

        Assert.Equal(120 * 32, served["vic"]);
        Assert.Equal(40 * 32, served["val"]);
        Assert.Equal(80 * 32, served["nia"]);
    }

    [Fact]
    public void A_withdrawn_job_leaves_the_queue_and_its_user_stops_competing()
    {
        var queue = new WorkQueue();
        Offer(queue, Work("a1", "alice"), 10);
        Offer(queue, Work("b1", "bob"), 10);

        queue.Withdraw("a1");

        Assert.Equal(10, queue.Count);
        Assert.Equal(320, Lease(queue, 10)["bob"]);
    }

    [Fact]
    public void A_requeued_item_goes_first_within_its_job_and_is_not_queued_twice()
    {
        var queue = new WorkQueue();
        var work = Work("a1", "alice");
        Offer(queue, work, 3);
        var (_, first) = queue.Dequeue();

        Assert.True(queue.Requeue(work, first));
        Assert.False(queue.Enqueue(work, first));
        Assert.Equal(first, queue.Peek().Item);
        Assert.Equal(first, queue.Dequeue().Item);
    }

    [Theory]
    [InlineData("alice=2,bob=1.5", "alice", 2.0)]
    [InlineData(" team-x = 0.5 ", "team-x", 0.5)]
    public void Weights_parse_from_name_equals_weight_pairs(string pairs, string name, double weight)
    {
        Assert.Equal(weight, FairShareWeights.Parse(pairs, "--user-weights")[name]);
    }

    [Theory]
    [InlineData("alice", "not name=weight")]
    [InlineData("alice=0", "above 0")]
    [InlineData("alice=-1", "above 0")]
    [InlineData("alice=NaN", "above 0")]
    [InlineData("alice=1,alice=2", "twice")]
    public void Bad_weights_are_refused_with_the_reason(string pairs, string reason)
    {
        var e = Assert.Throws<ArgumentException>(() => FairShareWeights.Parse(pairs, "--user-weights"));
        Assert.Contains(reason, e.Message);
    }
}
