using System.Diagnostics;
using System.Globalization;
using Lantern.Cli.Client;

namespace Lantern.Bench.ControlPlane;

/// <summary>
/// One node of the control-plane bench as a child process (<see cref="NodeChild"/>): its gRPC client, its resident set and
/// CPU time read from <c>/proc/PID</c>, a peak-RSS sampler like <see cref="RssSampler"/> but for that process, a graceful
/// stop (its standard input closes) and a <c>kill -9</c>.
/// </summary>
public sealed class BenchNode : IAsyncDisposable
{
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(20);
    private readonly Process _process;
    private readonly Queue<string> _tail = new();
    private readonly TaskCompletionSource<Uri> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Thread _sampler;
    private readonly ManualResetEventSlim _stop = new();
    private long _peakBytes;
    private ExplainClient? _client;

    private BenchNode(NodeSpec spec)
    {
        Spec = spec;
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        start.ArgumentList.Add(typeof(BenchNode).Assembly.Location);
        foreach (var arg in spec.ToArgs()) start.ArgumentList.Add(arg);
        _process = new Process { StartInfo = start, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        _process.Exited += (_, _) => _ready.TrySetException(new InvalidOperationException($"the bench node exited early:\n{Tail()}"));
        Started = Stopwatch.StartNew();
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        _sampler = new Thread(Sample) { IsBackground = true, Name = "node-rss-sampler" };
        _sampler.Start();
    }

    public NodeSpec Spec { get; }
    public int Pid => _process.Id;
    /// <summary>Runs from the moment the process was spawned.</summary>
    public Stopwatch Started { get; }
    /// <summary>Seconds from spawning to the node serving gRPC (cluster formed, roles started).</summary>
    public double SecondsToServing { get; private set; }
    public Uri GrpcAddress { get; private set; } = null!;
    public ExplainClient Client => _client ??= ExplainClient.Connect(GrpcAddress);

    public static async Task<BenchNode> StartAsync(NodeSpec spec)
    {
        var node = new BenchNode(spec);
        try
        {
            node.GrpcAddress = await node._ready.Task.WaitAsync(TimeSpan.FromMinutes(3));
        }
        catch
        {
            node.Kill();
            throw;
        }
        node.SecondsToServing = node.Started.Elapsed.TotalSeconds;
        node.RestartPeak();
        return node;
    }

    public double RssMb => RssBytes() / (1024.0 * 1024.0);

    /// <summary>The highest RSS since the last <see cref="RestartPeak"/>, in MiB.</summary>
    public double PeakRssMb => Math.Max(Interlocked.Read(ref _peakBytes), RssBytes()) / (1024.0 * 1024.0);

    public void RestartPeak() => Interlocked.Exchange(ref _peakBytes, RssBytes());

    /// <summary>
    /// Milliseconds the node's JIT has spent compiling since it started, as it last reported (at most 200 ms old). A
    /// young process keeps recompiling its hot methods at higher tiers for tens of seconds, on the same cores as the work.
    /// </summary>
    public double JitMilliseconds => Volatile.Read(ref _jitMilliseconds);

    private double _jitMilliseconds;

    /// <summary>User + system CPU seconds the process has used (/proc/PID/stat fields 14 and 15, in clock ticks of 1/100 s).</summary>
    public double CpuSeconds()
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{Pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // fields[0] is stat's field 3 (state): utime and stime are fields 14 and 15.
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
        }
        catch (Exception e) when (e is IOException or FormatException or IndexOutOfRangeException)
        {
            return double.NaN;
        }
    }

    /// <summary>SIGKILL: no shutdown of any kind, as a crashed or OOM-killed coordinator.</summary>
    public void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
    }

    /// <summary>Graceful: the node's standard input closes and it stops its host (leaves the cluster, flushes the journal).</summary>
    public async Task StopAsync()
    {
        if (_process.HasExited) return;
        _process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
        }
    }

    public string Tail()
    {
        lock (_tail) return string.Join('\n', _tail);
    }

    private long RssBytes()
    {
        try
        {
            var fields = File.ReadAllText($"/proc/{Pid}/statm").Split(' ');
            return long.Parse(fields[1], CultureInfo.InvariantCulture) * Environment.SystemPageSize;
        }
        catch (Exception e) when (e is IOException or FormatException or IndexOutOfRangeException or InvalidOperationException)
        {
            return 0;
        }
    }

    private void Sample()
    {
        while (!_stop.Wait(Period))
        {
            var bytes = RssBytes();
            var peak = Interlocked.Read(ref _peakBytes);
            while (bytes > peak)
            {
                var seen = Interlocked.CompareExchange(ref _peakBytes, bytes, peak);
                if (seen == peak) break;
                peak = seen;
            }
        }
    }

    private void OnLine(string? line)
    {
        if (line is null) return;
        if (line.StartsWith(NodeChild.ReadyMarker, StringComparison.Ordinal))
        {
            _ready.TrySetResult(new Uri(line[NodeChild.ReadyMarker.Length..]));
            return;
        }
        if (line.StartsWith(NodeChild.JitMarker, StringComparison.Ordinal))
        {
            if (double.TryParse(line.AsSpan(NodeChild.JitMarker.Length), NumberStyles.Float, CultureInfo.InvariantCulture, out var ms))
                Volatile.Write(ref _jitMilliseconds, ms);
            return;
        }
        lock (_tail)
        {
            _tail.Enqueue(line);
            while (_tail.Count > 40) _tail.Dequeue();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _client?.Dispose();
        await StopAsync();
        _stop.Set();
        _sampler.Join();
        _stop.Dispose();
        _process.Dispose();
    }
}
