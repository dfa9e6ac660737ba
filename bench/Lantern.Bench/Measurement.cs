namespace Lantern.Bench;

/// <summary>
/// One measured figure: how many model evaluations a path ran in how many seconds, and the process's peak memory by
/// then. <paramref name="Batch"/> is the batch size of a raw row; <paramref name="Method"/> the explanation method of an
/// in-process or cluster row (raw rows run no method).
/// </summary>
public sealed record Measurement(string Model, string Path, long Evaluations, double Seconds, double PeakRssMb, int? Batch = null,
    string Detail = "", string? Method = null)
{
    public double EvalsPerSecond => Evaluations / Seconds;

    /// <summary>Peak resident set of this process so far, in MiB; it only grows, so later rows include earlier peaks.</summary>
    public static double PeakRssNow()
    {
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        return process.PeakWorkingSet64 / (1024.0 * 1024.0);
    }
}
