using Akka.Actor;
using ApiJobState = Lantern.Contracts.Api.JobState;

namespace Lantern.Coordinator.Jobs;

/// <summary>
/// Status asks a job entity holds until the job's state (queued, running, done, …) differs from the one the asker has
/// seen, or until their wait is over: a progress stream learns that its job finished when it does, not at its next
/// poll. The entity answers them (<see cref="TakeChanged"/>, <see cref="TakeDue"/>, <see cref="TakeAll"/>).
/// </summary>
public sealed class StatusWaiters
{
    /// <summary>No ask is held longer than this, whatever it asks for: the asker's own timeout must not fire first.</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(1);

    private readonly List<Waiter> _waiting = [];

    public int Count => _waiting.Count;

    /// <summary>When the earliest held ask is due (null when none is held).</summary>
    public DateTime? NextDue => _waiting.Count == 0 ? null : _waiting.Min(w => w.Due);

    public void Hold(IActorRef asker, ApiJobState seen, TimeSpan wait, DateTime now) =>
        _waiting.Add(new Waiter(asker, seen, now + (wait < MaxWait ? wait : MaxWait)));

    /// <summary>The askers whose seen state is not <paramref name="now"/>, no longer held.</summary>
    public List<IActorRef> TakeChanged(ApiJobState now) => Take(w => w.Seen != now);

    /// <summary>The askers whose wait is over at <paramref name="now"/>, no longer held.</summary>
    public List<IActorRef> TakeDue(DateTime now) => Take(w => w.Due <= now);

    public List<IActorRef> TakeAll() => Take(_ => true);

    private List<IActorRef> Take(Predicate<Waiter> which)
    {
        var taken = _waiting.FindAll(which);
        _waiting.RemoveAll(which);
        return taken.ConvertAll(w => w.Asker);
    }

    private sealed record Waiter(IActorRef Asker, ApiJobState Seen, DateTime Due);
}
