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
        if (preference == ExecutionProviderPreference.Cpu) return (options, "CPU (as configured)");
        try
        {
            options.AppendExecutionProvider_CUDA(0);
            return (options, "CUDA device 0");
        }
        catch (OnnxRuntimeException e) when (preference == ExecutionProviderPreference.Auto)
        {
            options.Dispose();
            return (NewOptions(intraOpThreads), $"CPU (CUDA unavailable: {FirstLine(e.Message)})");
        }
    }

    private static SessionOptions NewOptions(int intraOpThreads)
    {
        var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        if (intraOpThreads > 0) options.IntraOpNumThreads = intraOpThreads;
        return options;
    }

    private static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();
}
