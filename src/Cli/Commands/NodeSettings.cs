using System.CommandLine;
using Lantern.Host;
using Lantern.Worker.Hosting;
using Lantern.Worker.Inference;

namespace Lantern.Cli.Commands;

/// <summary>Options shared by every command that starts a node; each also reads a LANTERN_* environment variable.</summary>
public sealed class NodeSettings
{
    public Option<string> Database { get; } = new("--db")
    {
        DefaultValueFactory = _ => Env("LANTERN_DB") ?? DefaultDatabase(),
        Description = "SQLite file for jobs and artifacts, unless --postgres is given (env LANTERN_DB)",
    };

    public Option<string?> Postgres { get; } = new("--postgres")
    {
        DefaultValueFactory = _ => Env("LANTERN_POSTGRES"),
        Description = "PostgreSQL connection string (Npgsql form, e.g. \"Host=db;Username=lantern;Password=…;Database=lantern\"): "
            + "jobs and artifacts go there instead of the SQLite file (env LANTERN_POSTGRES)",
    };

    public Option<string> Provider { get; } = new("--provider")
    {
        DefaultValueFactory = _ => Env("LANTERN_PROVIDER") ?? "auto",
        Description = "Inference provider: auto (CUDA if it initialises, else CPU), cpu, cuda (env LANTERN_PROVIDER)",
    };

    public Option<int> MaxBatch { get; } = new("--max-batch")
    {
        DefaultValueFactory = _ => int.TryParse(Env("LANTERN_MAX_BATCH"), out var b) ? b : new WorkerOptions().MaxBatch,
        Description = "Largest inference batch (env LANTERN_MAX_BATCH)",
    };

    public Option<int> Batch { get; } = new("--batch")
    {
        DefaultValueFactory = _ => int.TryParse(Env("LANTERN_BATCH"), out var b) ? b : 0,
        Description = "Coordinators: the batch new jobs are evaluated in, fixed per job so every worker computes the same floats; "
                      + "workers: the best batch they report instead of sweeping; 0 = none (env LANTERN_BATCH)",
    };

    public Option<bool> BatchSweep { get; } = new("--batch-sweep")
    {
        DefaultValueFactory = _ => Env("LANTERN_BATCH_SWEEP") is "1" or "true",
        Description = "Workers: time batches 1, 2, 4, … --max-batch when a model is first loaded, report the best in the log "
                      + "and /metrics, and plan jobs in it unless a coordinator has --batch (env LANTERN_BATCH_SWEEP=1)",
    };

    public Option<int> Capacity { get; } = new("--capacity")
    {
        DefaultValueFactory = _ => int.TryParse(Env("LANTERN_CAPACITY"), out var c) ? c : new WorkerOptions().Capacity,
        Description = "Work items each worker holds at once: one running, the rest queued (env LANTERN_CAPACITY)",
    };

    public Option<int> Workers { get; } = new("--workers")
    {
        DefaultValueFactory = _ => int.TryParse(Env("LANTERN_WORKERS"), out var w) ? w : 0,
        Description = "Worker actors on this node, each with its own sessions; 0: one per core on a CPU (one ONNX Runtime " +
                      "thread each), one on a GPU (env LANTERN_WORKERS)",
    };

    public Option<int> IntraOpThreads { get; } = new("--intra-op-threads")
    {
        DefaultValueFactory = _ => int.TryParse(Env("LANTERN_INTRA_OP_THREADS"), out var t) ? t : 0,
        Description = "ONNX Runtime threads per session; 0 shares the cores this process may use among the node's workers (env LANTERN_INTRA_OP_THREADS)",
    };

    public Option<bool> NoPipeline { get; } = new("--no-pipeline")
    {
        DefaultValueFactory = _ => Env("LANTERN_NO_PIPELINE") is "1" or "true",
        Description = "Write each batch's inputs only when it is due, not while the previous batch runs (env LANTERN_NO_PIPELINE=1)",
    };

    public Option<bool> ForcePipeline { get; } = new("--pipeline")
    {
        DefaultValueFactory = _ => Env("LANTERN_PIPELINE") is "1" or "true",
        Description = "Write the next batch's inputs while one runs even on a CPU whose cores the sessions' threads fill; by " +
                      "default only on CUDA or with a core to spare (env LANTERN_PIPELINE=1)",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Capacity);
        command.Options.Add(Workers);
        command.Options.Add(IntraOpThreads);
        command.Options.Add(NoPipeline);
        command.Options.Add(ForcePipeline);
        command.Options.Add(Database);
        command.Options.Add(Postgres);
        command.Options.Add(Provider);
        command.Options.Add(MaxBatch);
        command.Options.Add(Batch);
        command.Options.Add(BatchSweep);
    }

    public WorkerOptions Worker(ParseResult parsed) => new()
    {
        ExecutionProvider = parsed.GetValue(Provider) switch
        {
            "cpu" => ExecutionProviderPreference.Cpu,
            "cuda" => ExecutionProviderPreference.Cuda,
            "auto" => ExecutionProviderPreference.Auto,
            var other => throw new ArgumentException($"--provider '{other}' is not one of: auto, cpu, cuda"),
        },
        MaxBatch = parsed.GetValue(MaxBatch),
        Batch = Math.Max(0, parsed.GetValue(Batch)),
        SweepBatch = parsed.GetValue(BatchSweep),
        Capacity = Positive(parsed.GetValue(Capacity), "--capacity"),
        Workers = NotNegative(parsed.GetValue(Workers), "--workers"),
        IntraOpThreads = Math.Max(0, parsed.GetValue(IntraOpThreads)),
        Pipeline = (parsed.GetValue(NoPipeline), parsed.GetValue(ForcePipeline)) switch
        {
            (true, true) => throw new ArgumentException("--pipeline and --no-pipeline contradict each other: give one"),
            (true, false) => false,
            (false, true) => true,
            _ => null, // as the hardware suits (WorkerOptions.PipelinesOn)
        },
    };

    private static int NotNegative(int value, string option) =>
        value >= 0 ? value : throw new ArgumentException($"{option} must be 0 or more, got {value}");

    private static int Positive(int value, string option) =>
        value >= 1 ? value : throw new ArgumentException($"{option} must be at least 1, got {value}");

    public static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;

    private static string DefaultDatabase()
    {
        var directory = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify), "lantern");
        Directory.CreateDirectory(directory);
        return Path.Combine(directory, "lantern.db");
    }
}
