using Lantern.Cli.Commands;
using Lantern.Contracts.Api;
using Lantern.Coordinator.Jobs;
using JobState = Lantern.Contracts.Api.JobState;

namespace Lantern.Cluster.Tests.Jobs;

/// <summary>Progress in evaluations: a rate over a recent window, the time left at it, and how the CLI shows both.</summary>
public sealed class ProgressRateTests
{
    private const long T0 = 1_700_000_000_000;

    [Fact]
    public void The_rate_is_the_evaluations_of_the_recent_window_over_its_time()
    {
        var rate = new ProgressRate(windowMs: 10_000);
        rate.Record(T0, 1);
        Assert.Equal(0, rate.PerSecond(T0)); // one sample says nothing about speed
        for (var s = 1; s <= 30; s++) rate.Record(T0 + s * 1000, 1 + 100 * Math.Min(s, 20) + 400 * Math.Max(0, s - 20)); // 100/s, then 400/s

        // The window holds the last 10 s only: evaluations 2001 → 6001 over 10 s.
        Assert.Equal(400, rate.PerSecond(T0 + 30_000), 6);
    }

    [Fact]
    public void A_stalled_job_s_rate_falls_instead_of_holding_its_last_value()
    {
        var rate = new ProgressRate(windowMs: 10_000);
        for (var s = 0; s <= 5; s++) rate.Record(T0 + s * 1000, 1 + s * 100);
        var running = rate.PerSecond(T0 + 5000);

        var stalled = rate.PerSecond(T0 + 60_000);

        Assert.Equal(100, running, 6);
        Assert.InRange(stalled, 0.01, running / 5);
    }

    [Fact]
    public void A_running_job_gets_its_rate_and_the_seconds_left_at_that_rate()
    {
        var rate = new ProgressRate();
        rate.Record(T0, 1);
        rate.Record(T0 + 2000, 401);
        var progress = new JobProgress { State = JobState.Running, Evaluations = 401, EvaluationsTotal = 1001 };

        rate.Fill(progress, T0 + 2000);

        Assert.Equal(200, progress.EvaluationsPerSecond, 6);
        Assert.Equal(3, progress.SecondsLeft, 6);
    }

    [Fact]
    public void The_progress_line_shows_evaluations_rate_and_time_left()
    {
        var progress = new JobProgress
        {
            State = JobState.Running, Evaluations = 12_345, EvaluationsTotal = 342_275, EvaluationsPerSecond = 812.4, SecondsLeft = 406.1,
            ItemsDone = 3, ItemsTotal = 10_000,
        };

        Assert.Equal("running · 12,345/342,275 evaluations · 812/s · 6 min 47 s left", ProgressText.Describe(progress));
        Assert.Equal((12_345d, 342_275d), ProgressText.Bar(progress));
    }
}
