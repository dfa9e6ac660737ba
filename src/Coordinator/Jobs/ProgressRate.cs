using Lantern.Contracts.Api;

namespace Lantern.Coordinator.Jobs;

/// <summary>
/// A job's evaluation rate over a recent window, for progress only (not persisted: it is wall-clock time, and a
/// recovered job simply measures afresh). Fed with (time, evaluations so far) as score blocks arrive; the rate is the
/// evaluations since the oldest sample still inside the window over the time from it to now, so it drops when work
/// stalls instead of holding its last value.
/// </summary>
public sealed class ProgressRate(long windowMs = 10_000)
{
    private readonly Queue<(long UnixMs, long Evaluations)> _samples = new();
    private (long UnixMs, long Evaluations)? _last;

    public void Record(long unixMs, long evaluations)
    {
        if (_last is { } last && evaluations <= last.Evaluations) return;
        _samples.Enqueue((unixMs, evaluations));
        _last = (unixMs, evaluations);
        // Keep one sample at or before the window's start as the anchor, drop the ones before it.
        while (_samples.Count > 2 && _samples.ElementAt(1).UnixMs <= unixMs - windowMs) _samples.Dequeue();
    }

    /// <summary>Evaluations per second at <paramref name="nowUnixMs"/>; 0 until two samples are in.</summary>
    public double PerSecond(long nowUnixMs)
    {
        if (_samples.Count < 2 || _last is not { } last) return 0;
        var anchor = _samples.Peek();
        foreach (var sample in _samples)
        {
            if (sample.UnixMs > nowUnixMs - windowMs || sample == last) break;
            anchor = sample;
        }
        var seconds = Math.Max(nowUnixMs, last.UnixMs) - anchor.UnixMs;
        return seconds <= 0 ? 0 : (last.Evaluations - anchor.Evaluations) * 1000.0 / seconds;
    }

    /// <summary>Sets the rate and, while the job runs at a known rate, the seconds left at that rate.</summary>
    public void Fill(JobProgress progress, long nowUnixMs)
    {
        if (progress.State != Contracts.Api.JobState.Running) return;
        var rate = PerSecond(nowUnixMs);
        progress.EvaluationsPerSecond = rate;
        if (rate > 0) progress.SecondsLeft = Math.Max(0, progress.EvaluationsTotal - progress.Evaluations) / rate;
    }
}
