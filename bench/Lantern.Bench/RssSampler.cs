namespace Lantern.Bench;

/// <summary>
/// The peak resident set of this process over one row. <see cref="System.Diagnostics.Process.PeakWorkingSet64"/> is a
/// high-water mark for the whole process lifetime, so every row would carry the peaks of the rows before it; instead a
/// background thread reads the current RSS (<c>/proc/self/statm</c>) every few milliseconds and keeps the maximum since
/// the last <see cref="Restart"/>. It is still the whole process: a cluster row holds the node (gateway, coordinator,
/// worker with its cached sessions) as well as the bench itself.
/// </summary>
public sealed class RssSampler : IDisposable
{
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(10);
    private readonly Thread _thread;
    // No spinning before it sleeps: a spinning wait yielded the core hundreds of times a second (sched_yield), each time
    // switching ONNX Runtime's threads out and in, in raw rows and job rows alike.
    private readonly ManualResetEventSlim _stop = new(initialState: false, spinCount: 0);
    private long _peakBytes;

    public RssSampler()
    {
        _thread = new Thread(Sample) { IsBackground = true, Name = "rss-sampler", Priority = ThreadPriority.AboveNormal };
        Restart();
        _thread.Start();
    }

    /// <summary>Forgets the peak so far: the next <see cref="PeakMb"/> covers only what happens from now.</summary>
    public void Restart() => Interlocked.Exchange(ref _peakBytes, CurrentBytes());

    /// <summary>The highest RSS seen since the last <see cref="Restart"/>, this instant included, in MiB.</summary>
    public double PeakMb
    {
        get
        {
            Observe(CurrentBytes());
            return Interlocked.Read(ref _peakBytes) / (1024.0 * 1024.0);
        }
    }

    /// <summary>Resident bytes now: /proc/self/statm's second field (pages); the working set where there is no /proc.</summary>
    public static long CurrentBytes()
    {
        try
        {
            var fields = File.ReadAllText("/proc/self/statm").Split(' ');
            return long.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture) * Environment.SystemPageSize;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            using var process = System.Diagnostics.Process.GetCurrentProcess();
            return process.WorkingSet64;
        }
    }

    private void Sample()
    {
        while (!_stop.Wait(Period)) Observe(CurrentBytes());
    }

    private void Observe(long bytes)
    {
        var peak = Interlocked.Read(ref _peakBytes);
        while (bytes > peak)
        {
            var seen = Interlocked.CompareExchange(ref _peakBytes, bytes, peak);
            if (seen == peak) return;
            peak = seen;
        }
    }

    public void Dispose()
    {
        _stop.Set();
        _thread.Join();
        _stop.Dispose();
    }
}
