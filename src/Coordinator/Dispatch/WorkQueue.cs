using Lantern.Contracts.Messages;

namespace Lantern.Coordinator.Dispatch;

/// <summary>
/// Queued work items and the order they are leased in. Workers are shared between users (a job's
/// <see cref="JobSpec.Owner"/> in its <see cref="JobSpec.Team"/>) by weighted fair share, teams first and then the users
/// of a team (hierarchical start-time fair queueing, see <see cref="VirtualClock{TKey}"/>), counting the model
/// evaluations leased (an item's perturbations; 1 for a baseline). Within a user, jobs of higher
/// <see cref="JobSpec.Priority"/> go first; jobs of equal priority are served round-robin, one item each; a job's items
/// go in order (FIFO). An item already queued is not queued twice.
/// </summary>
/// <remarks>
/// Only the order of leasing changes with the share: items are fixed index ranges, so no job's maps depend on it.
/// </remarks>
public sealed class WorkQueue(FairShareWeights weights)
{
    private readonly VirtualClock<string> _teams = new();
    private readonly Dictionary<string, VirtualClock<string>> _usersOfTeam = [];
    private readonly Dictionary<(string Team, string Owner), UserQueue> _users = [];
    private readonly Dictionary<string, JobQueue> _jobs = [];
    private readonly HashSet<(string JobId, WorkItem Item)> _queued = [];

    public WorkQueue() : this(FairShareWeights.Equal)
    {
    }

    public int Count => _queued.Count;

    public bool Enqueue(WorkSpec work, WorkItem item) => Add(work, item, atFront: false);

    /// <summary>A re-issued item goes to the front of its job's queue: it is the oldest outstanding work.</summary>
    public bool Requeue(WorkSpec work, WorkItem item) => Add(work, item, atFront: true);

    /// <summary>The item <see cref="Dequeue"/> would return.</summary>
    public (WorkSpec Work, WorkItem Item) Peek() => NextJob().Items.First!.Value;

    public (WorkSpec Work, WorkItem Item) Dequeue()
    {
        var job = NextJob();
        var next = job.Items.First!.Value;
        job.Items.RemoveFirst();
        _queued.Remove((job.JobId, next.Item));

        // Charged before the user may stop competing, so its virtual time carries what it was just served.
        var cost = Evaluations(next.Item);
        _teams.Charge(job.User.Team, cost, weights.Team(job.User.Team));
        _usersOfTeam[job.User.Team].Charge(job.User.Owner, cost, weights.User(job.User.Owner));

        var ring = _users[job.User].Rings[job.Priority];
        ring.RemoveFirst();
        if (job.Items.Count > 0) ring.AddLast(job.JobId); // round-robin among the user's jobs of this priority
        else RemoveJob(job);
        return next;
    }

    public void Withdraw(string jobId)
    {
        if (!_jobs.TryGetValue(jobId, out var job)) return;
        foreach (var (_, item) in job.Items) _queued.Remove((jobId, item));
        job.Items.Clear();
        _users[job.User].Rings[job.Priority].Remove(jobId);
        RemoveJob(job);
    }

    /// <summary>What fair share counts: model evaluations, the item's perturbations (a baseline is one forward pass).</summary>
    public static long Evaluations(WorkItem item) => item.Baseline ? 1 : Math.Max(1, item.Count);

    private JobQueue NextJob()
    {
        var team = _teams.Next();
        var owner = _usersOfTeam[team].Next();
        var user = _users[(team, owner)];
        return _jobs[user.Rings.First().Value.First!.Value];
    }

    private bool Add(WorkSpec work, WorkItem item, bool atFront)
    {
        if (!_queued.Add((work.JobId, item))) return false;
        if (!_jobs.TryGetValue(work.JobId, out var job))
        {
            var spec = work.Spec;
            job = new JobQueue(work.JobId, (spec?.Team ?? "", spec?.Owner ?? ""), spec?.Priority ?? 0);
            _jobs[work.JobId] = job;
            AddJob(job);
        }
        if (atFront) job.Items.AddFirst((work, item));
        else job.Items.AddLast((work, item));
        return true;
    }

    private void AddJob(JobQueue job)
    {
        var (team, owner) = job.User;
        if (!_users.TryGetValue(job.User, out var user))
        {
            user = new UserQueue();
            _users[job.User] = user;
            if (!_usersOfTeam.TryGetValue(team, out var users))
            {
                users = new VirtualClock<string>();
                _usersOfTeam[team] = users;
            }
            users.Activate(owner);
            _teams.Activate(team);
        }
        if (!user.Rings.TryGetValue(job.Priority, out var ring))
        {
            ring = [];
            user.Rings[job.Priority] = ring;
        }
        ring.AddLast(job.JobId);
    }

    /// <summary>The job has no items queued: it leaves its user's rings, and a user (team) with nothing queued stops competing.</summary>
    private void RemoveJob(JobQueue job)
    {
        _jobs.Remove(job.JobId);
        var (team, owner) = job.User;
        var user = _users[job.User];
        if (user.Rings[job.Priority].Count == 0) user.Rings.Remove(job.Priority);
        if (user.Rings.Count > 0) return;
        _users.Remove(job.User);
        var users = _usersOfTeam[team];
        users.Deactivate(owner);
        if (users.IsEmpty) _teams.Deactivate(team);
        // The team's clock stays (with its members' virtual times) while it has members ahead of its clock.
    }

    private sealed record JobQueue(string JobId, (string Team, string Owner) User, int Priority)
    {
        public LinkedList<(WorkSpec Work, WorkItem Item)> Items { get; } = [];
    }

    /// <summary>A user's queued jobs: one round-robin ring per priority, highest priority first.</summary>
    private sealed class UserQueue
    {
        public SortedDictionary<int, LinkedList<string>> Rings { get; } =
            new(Comparer<int>.Create((a, b) => b.CompareTo(a)));
    }
}
