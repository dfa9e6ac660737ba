using System.Globalization;
using Lantern.Worker.Inference;

namespace Lantern.Bench;

/// <summary>
/// CPU seconds this process has used so far: in all, and in its inference threads (the workers' own threads, named
/// <see cref="InferenceThread.NamePrefix"/>…). The difference over a job is what
/// the rest of the process took from the cores: the node's control plane (gRPC, actors, journal, assembly, overlays),
/// the runtime, and the bench's own client. Read from <c>/proc/self/task/*/stat</c> (in clock ticks, 1/100 s); zero
/// where there is no /proc.
/// </summary>
public readonly record struct ThreadCpu(double InferenceSeconds, double ProcessSeconds)
{
    private const double TicksPerSecond = 100; // USER_HZ, which Linux fixes at 100 for /proc

    public static ThreadCpu Now()
    {
        try
        {
            // The process's own line counts threads that have ended too.
            var process = Ticks(File.ReadAllText("/proc/self/stat")).Ticks;
            long inference = 0;
            foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
            {
                try
                {
                    var (name, ticks) = Ticks(File.ReadAllText(Path.Combine(task, "stat")));
                    if (name.StartsWith(InferenceThread.NamePrefix, StringComparison.Ordinal)) inference += ticks;
                }
                catch (IOException)
                {
                    // the thread ended meanwhile
                }
            }
            return new ThreadCpu(inference / TicksPerSecond, process / TicksPerSecond);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return default;
        }
    }

    /// <summary>"pid (comm) state ppid …": the name, and utime + stime. comm may hold spaces and parentheses.</summary>
    private static (string Name, long Ticks) Ticks(string stat)
    {
        var close = stat.LastIndexOf(')');
        var fields = stat[(close + 2)..].Split(' ');
        return (stat[(stat.IndexOf('(') + 1)..close],
            long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture));
    }

    public static ThreadCpu operator -(ThreadCpu after, ThreadCpu before) =>
        new(after.InferenceSeconds - before.InferenceSeconds, after.ProcessSeconds - before.ProcessSeconds);

    public static ThreadCpu operator +(ThreadCpu a, ThreadCpu b) =>
        new(a.InferenceSeconds + b.InferenceSeconds, a.ProcessSeconds + b.ProcessSeconds);

    /// <summary>The inference threads' share of the process's CPU; null when nothing was counted.</summary>
    public double? InferenceShare => ProcessSeconds > 0 ? InferenceSeconds / ProcessSeconds : null;
}
