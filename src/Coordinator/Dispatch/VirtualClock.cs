namespace Lantern.Coordinator.Dispatch;

/// <summary>
/// Weighted fair share between the members of one level (teams, or the users of one team) by start-time fair queueing
/// (Goyal, Vin and Cheng, "Start-time Fair Queuing", SIGCOMM 1996): each member's virtual time is the work it was
/// served divided by its weight; the backlogged member with the least virtual time goes next. Only backlogged members
/// compete, so the share is work-conserving (a lone member gets everything). A member that becomes backlogged starts
/// at no less than the level's virtual time (the start tag of the work served last), so it cannot bank credit while idle
/// and then starve the others.
/// </summary>
/// <remarks>Pure and deterministic: ties go to the member backlogged longest.</remarks>
public sealed class VirtualClock<TKey> where TKey : notnull
{
    private readonly Dictionary<TKey, double> _time = [];
    private readonly List<TKey> _backlogged = [];
    private double _now;

    public bool IsEmpty => _backlogged.Count == 0;

    /// <summary>The member becomes backlogged (it has work queued).</summary>
    public void Activate(TKey member)
    {
        if (_backlogged.Contains(member)) return;
        _time[member] = Math.Max(_time.GetValueOrDefault(member), _now);
        _backlogged.Add(member);
    }

    /// <summary>The member has no work queued any more.</summary>
    public void Deactivate(TKey member)
    {
        if (!_backlogged.Remove(member)) return;
        // A member at or behind the clock would restart at the clock anyway: forget it, so idle members cost nothing.
        if (_time[member] <= _now) _time.Remove(member);
    }

    /// <summary>The backlogged member to serve next.</summary>
    public TKey Next()
    {
        if (_backlogged.Count == 0) throw new InvalidOperationException("no member has work queued");
        var best = _backlogged[0];
        var bestTime = _time[best];
        for (var i = 1; i < _backlogged.Count; i++)
        {
            var time = _time[_backlogged[i]];
            if (time < bestTime) (best, bestTime) = (_backlogged[i], time);
        }
        return best;
    }

    /// <summary>The member was served <paramref name="cost"/> units of work (model evaluations).</summary>
    public void Charge(TKey member, double cost, double weight)
    {
        var start = _time.GetValueOrDefault(member);
        _now = Math.Max(_now, start);
        _time[member] = start + cost / weight;
    }

    /// <summary>The member's virtual time (work served / weight, from when it last caught up with the clock).</summary>
    public double TimeOf(TKey member) => _time.GetValueOrDefault(member, _now);
}
