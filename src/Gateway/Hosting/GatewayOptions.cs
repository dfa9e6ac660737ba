namespace Lantern.Gateway.Hosting;

public sealed record GatewayOptions
{
    public long MaxModelBytes { get; init; } = 1L << 30;
    public long MaxImageBytes { get; init; } = 100L << 20;

    /// <summary>Quota: the most model evaluations one job may ask for.</summary>
    public long MaxEvaluationsPerJob { get; init; } = 5_000_000;

    public TimeSpan AskTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often a progress stream looks at its job (an ask to its entity, microseconds). It is also how late a client
    /// learns that its job finished: at 200 ms that was ~3% of a 3-second job's end-to-end time.
    /// </summary>
    public TimeSpan WatchInterval { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>WatchJob sends the job's progress at least this often while it runs, even when no work item finished.</summary>
    public TimeSpan WatchHeartbeat { get; init; } = TimeSpan.FromSeconds(1);
}
