using Microsoft.ML.OnnxRuntime;

namespace Lantern.Worker.Inference;

public enum ExecutionProviderPreference { Auto, Cpu, Cuda }

/// <summary>
/// Chooses CUDA when asked for (or on Auto) and it initialises, the CPU otherwise. The only reliable test is to try:
/// GetAvailableProviders() lists CUDA even where no CUDA runtime is installed.
/// </summary>
public static class ExecutionProviders
{
    public static (SessionOptions Options, string Description) Create(ExecutionProviderPreference preference, int intraOpThreads)
    {
        var options = NewOptions(intraOpThreads);
        if (preference == ExecutionProviderPreference.Cpu) return (options, $"CPU (as configured), {Threads(intraOpThreads)}");
        // ONNX Runtime prints a failed CUDA load as an error of its own; on Auto that failure is expected and we say
        // which provider runs in one clear line instead.
        var env = OrtEnv.Instance();
        if (preference == ExecutionProviderPreference.Auto) env.EnvLogLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL;
        try
        {
            options.AppendExecutionProvider_CUDA(0);
            return (options, "CUDA device 0");
        }
        catch (OnnxRuntimeException e) when (preference == ExecutionProviderPreference.Auto)
        {
            options.Dispose();
            return (NewOptions(intraOpThreads), $"CPU (CUDA unavailable: {FirstLine(e.Message)}), {Threads(intraOpThreads)}");
        }
        finally
        {
            env.EnvLogLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING;
        }
    }

    /// <summary>Whether sessions asked for with <paramref name="preference"/> run on CUDA here (tried, as <see cref="Create"/> does).</summary>
    public static bool RunsOnCuda(ExecutionProviderPreference preference)
    {
        if (preference == ExecutionProviderPreference.Cpu) return false;
        var (options, description) = Create(preference, 0);
        options.Dispose();
        return IsCuda(description);
    }

    /// <summary>Whether a description <see cref="Create"/> returned is of sessions on CUDA.</summary>
    public static bool IsCuda(string description) => description.StartsWith("CUDA", StringComparison.Ordinal);

    private static SessionOptions NewOptions(int intraOpThreads)
    {
        var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        if (intraOpThreads > 0) options.IntraOpNumThreads = intraOpThreads;
        return options;
    }

    private static string Threads(int intraOpThreads) =>
        intraOpThreads > 0 ? $"{intraOpThreads} intra-op thread{(intraOpThreads == 1 ? "" : "s")}" : "ONNX Runtime's default threads";

    private static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();
}
