using Lantern.Contracts.Messages;

namespace Lantern.Coordinator.Dispatch;

/// <summary>
/// Results the dispatcher has forwarded to their jobs and does not yet know the jobs to have handled. A job re-offers its
/// unscored items now and then (to recover from a dispatcher that lost them); an item whose result is still on its way to
/// the job looks unscored to it, and queueing it again would evaluate it twice. Each forwarded result gets a stamp; every
/// offer says the highest stamp its job had handled (dispatcher → job messages arrive in order), so an offered item with
/// a higher stamp crossed its own result and is not queued. A result the job never handled (lost with a moved shard) is
/// forgotten after a while, so its item is offered and leased again.
/// </summary>
public sealed class ForwardedResults
{
    private readonly Dictionary<string, Dictionary<WorkItem, (long Stamp, DateTime At)>> _byJob = [];

    // Stamps start at the clock, so a later dispatcher incarnation (a restart, a move) stamps above the one before it and
    // a job's memory of the old stamps confirms none of the new ones.
    private long _lastStamp = DateTime.UtcNow.Ticks;

    /// <summary>Records a result forwarded now; returns its stamp, for <see cref="ScoreWorkItem.ResultStamp"/>.</summary>
    public long Add(string jobId, WorkItem item, DateTime now)
    {
        _lastStamp = Math.Max(_lastStamp + 1, now.Ticks);
        if (!_byJob.TryGetValue(jobId, out var results)) _byJob[jobId] = results = [];
        results[item] = (_lastStamp, now);
        return _lastStamp;
    }

    /// <summary>The job had handled every result stamped up to <paramref name="resultsSeen"/>: those are settled.</summary>
    public void Seen(string jobId, long resultsSeen)
    {
        if (!_byJob.TryGetValue(jobId, out var results)) return;
        foreach (var (item, (stamp, _)) in results)
            if (stamp <= resultsSeen) results.Remove(item);
        if (results.Count == 0) _byJob.Remove(jobId);
    }

    /// <summary>True when the item's result was forwarded and the offer was made before the job handled it.</summary>
    public bool Crossed(string jobId, WorkItem item) => _byJob.TryGetValue(jobId, out var results) && results.ContainsKey(item);

    public void Forget(string jobId) => _byJob.Remove(jobId);

    /// <summary>Results forwarded before <paramref name="cutoff"/> and never confirmed are presumed lost.</summary>
    public void ExpireBefore(DateTime cutoff)
    {
        foreach (var (jobId, results) in _byJob)
        {
            foreach (var (item, (_, at)) in results)
                if (at < cutoff) results.Remove(item);
            if (results.Count == 0) _byJob.Remove(jobId);
        }
    }

    /// <summary>Forwarded results not yet known to be handled, over all jobs (for tests).</summary>
    public int Count => _byJob.Values.Sum(r => r.Count);
}
