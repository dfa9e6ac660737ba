using Lantern.Contracts.Messages;

namespace Lantern.Coordinator.Dispatch;

/// <summary>
/// Queued work items, one FIFO per job, served round-robin across jobs (fair share between concurrent jobs).
/// An item already queued is not queued twice.
/// </summary>
public sealed class WorkQueue
{
    private readonly Dictionary<string, LinkedList<(WorkSpec Work, WorkItem Item)>> _byJob = [];
    private readonly LinkedList<string> _jobOrder = [];
    private readonly HashSet<(string JobId, WorkItem Item)> _queued = [];

    public int Count => _queued.Count;

    public bool Enqueue(WorkSpec work, WorkItem item) => Add(work, item, atFront: false);

    /// <summary>A re-issued item goes to the front of its job's queue: it is the oldest outstanding work.</summary>
    public bool Requeue(WorkSpec work, WorkItem item) => Add(work, item, atFront: true);

    /// <summary>The item <see cref="Dequeue"/> would return.</summary>
    public (WorkSpec Work, WorkItem Item) Peek() => _byJob[_jobOrder.First!.Value].First!.Value;

    public (WorkSpec Work, WorkItem Item) Dequeue()
    {
        var jobId = _jobOrder.First!.Value;
        _jobOrder.RemoveFirst();
        var items = _byJob[jobId];
        var next = items.First!.Value;
        items.RemoveFirst();
        _queued.Remove((jobId, next.Item));
        if (items.Count > 0) _jobOrder.AddLast(jobId);
        else _byJob.Remove(jobId);
        return next;
    }

    public void Withdraw(string jobId)
    {
        if (!_byJob.Remove(jobId, out var items)) return;
        foreach (var (_, item) in items) _queued.Remove((jobId, item));
        _jobOrder.Remove(jobId);
    }

    private bool Add(WorkSpec work, WorkItem item, bool atFront)
    {
        if (!_queued.Add((work.JobId, item))) return false;
        if (!_byJob.TryGetValue(work.JobId, out var items))
        {
            items = [];
            _byJob[work.JobId] = items;
            _jobOrder.AddLast(work.JobId);
        }
        if (atFront) items.AddFirst((work, item));
        else items.AddLast((work, item));
        return true;
    }
}
