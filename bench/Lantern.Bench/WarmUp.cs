using System.Runtime;

namespace Lantern.Bench;

/// <summary>
/// Brings a path to the steady state of a serving node before it is timed. The first run loads the model into the
/// worker's session cache. Further runs follow while the JIT is still busy: .NET's tiered compilation recompiles hot
/// methods on a background thread, and on a 2-core machine that thread takes a core away from ONNX Runtime's
/// intra-op threads for seconds (measured: about 1.2 s of CPU during a 4 s cluster job timed right after one warm-up
/// run), which a node that has served a few jobs no longer pays.
/// </summary>
public static class WarmUp
{
    /// <summary>A run that compiles fewer methods than this leaves the JIT essentially idle.</summary>
    private const long QuietMethods = 25;

    public static async Task<int> RunAsync(Func<Task> run, int maxRuns = 6)
    {
        var runs = 0;
        while (runs < maxRuns)
        {
            var before = JitInfo.GetCompiledMethodCount();
            await run();
            runs++;
            await QuietAsync();
            if (JitInfo.GetCompiledMethodCount() - before < QuietMethods) break;
        }
        return runs;
    }

    /// <summary>
    /// Runs <paramref name="serve"/> (a node's warm-up jobs), then waits for the JIT to be quiet.
    /// </summary>
    /// <returns>The wall time and the number of methods the JIT compiled meanwhile.</returns>
    public static async Task<(TimeSpan Elapsed, long Compiled)> ServeAsync(Func<Task> serve)
    {
        var compiled = JitInfo.GetCompiledMethodCount();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await serve();
        await QuietAsync();
        return (clock.Elapsed, JitInfo.GetCompiledMethodCount() - compiled);
    }

    /// <summary>Waits (at most 5 s) until no method has been compiled for 300 ms: tier-1 compilations trail the calls.</summary>
    public static async Task QuietAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        var count = JitInfo.GetCompiledMethodCount();
        while (DateTime.UtcNow < deadline)
        {
            await Task.Delay(300);
            var now = JitInfo.GetCompiledMethodCount();
            if (now == count) return;
            count = now;
        }
    }
}
