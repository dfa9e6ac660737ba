using System.Globalization;
using Lantern.Worker.Hosting;
using Lantern.Worker.Inference;

namespace Lantern.Bench;

/// <summary>The command line of the benchmark; every figure it prints is measured, these only choose what to measure.</summary>
public sealed record BenchOptions
{
    public const string Usage = """
        usage: Lantern.Bench [--models a.onnx,b.onnx] [--methods occlusion,gradcam,ig32] [--paths in-process,in-process-serial,cluster,grpc]
                             [--shared DIR] [--image PATH] [--window 16 --stride 8] [--samples 1000]
                             [--provider cpu|auto|cuda] [--workers N] [--intra-op-threads N] [--seconds 3] [--job-batch sweep|largest|N]
                             [--quick] [--json FILE] [--results FILE]
               Lantern.Bench --control-plane [--quick] [--sections throughput,memory,recovery,list] [--results FILE]
               Lantern.Bench --fixed-cost [--models ...] [--methods ...] [--repeats 3] [--results FILE]
               Lantern.Bench --layouts [--models ...] [--seconds 3] [--results FILE]
          --models    model files, as paths or names under SHARED/models (default: the six shared models,
                      MobileNetV2, SqueezeNet and ShuffleNetV2, each fp32 and int8/fp16)
          --methods   explanation methods to measure: occlusion, multiscale (16/32/48/64), multiscale-c2f (coarse to
                      fine, in-process only), lime, gradcam, ig32 (integrated gradients, 32 steps) (default: all)
          --c2f-threshold  fraction of the coarser map's maximum that makes a pixel worth refining (default 0.25)
          --paths     in-process (WorkEvaluator, pipelined as serve decides for the hardware), in-process-serial and
                      in-process-pipelined (the same, pipelining off or on), cluster (the local node's actors), grpc
                      (end to end) (default: all five)
          --shared    the shared data folder (default: the first shared/ with a models/ folder above the
                      current directory or the program)
          --image     image to explain (default: SHARED/images/tench.png, 224x224)
          --window    occlusion window in pixels (default 16); --stride its step (default 8)
          --samples   LIME samples, on SLIC 50 segments with seed 0 (default 1000)
          --provider  inference provider for every path (default cpu)
          --workers   worker actors, each with its own sessions, on the cluster's node and in-process, and as many
                      raw sessions side by side (serve --workers; default: as serve lays out the cores, one per core
                      on a CPU)
          --intra-op-threads  ONNX Runtime's threads per session, on every path and in raw (serve --intra-op-threads;
                      default: as a worker sizes it, the cores this process may use)
          --seconds   measured time per raw batch size (default 3)
          --job-batch the batch jobs are planned with, as a worker reports it: sweep (serve --batch-sweep: the worker
                      times batches 1, 2, 4, ... up to the raw sweep's largest, 64, when it loads the model), largest
                      (neither --batch nor a sweep: 64 within items of 32, so 32), or N (a worker's --batch N) (default sweep)
          --quick     MobileNetV2 and occlusion only (every path), raw at batch 1 and 32 only
          --json      also write the rows as a JSON array to FILE
          --results   also write the results as markdown with the machine description to FILE (bench/RESULTS.md)
          --control-plane  measure the coordinator instead, on a nearly free synthetic model: items/s by worker count,
                      coordinator RSS and journal rows by job size, recovery after a kill, ListJobs latency
                      (--results replaces only its own section of FILE; --quick runs smaller sizes; --sections
                      runs only those, without --results)
          --fixed-cost  each short method's fixed per-job cost (job wall time less the worker's compute) next to its
                      compute: MobileNetV2; occlusion, lime, gradcam, ig32; in-process, cluster and grpc
                      (--results replaces only its own section of FILE)
          --layouts   raw throughput of each model at its best batch with the cores spent three ways: one session on
                      one thread, one session with a thread per core, a single-threaded session per core side by side
                      (--results replaces only its own section of FILE)
          --repeats   raw/row pairs per explanation row, interleaved (default 3)
        """;

    public const string InProcessPath = "in-process";
    /// <summary>In-process with the worker's pipelining off (perturbation methods); with <see cref="PipelinedPath"/>, what
    /// writing the next batch ahead gains or costs here.</summary>
    public const string SerialPath = "in-process-serial";
    /// <summary>In-process with the worker's pipelining on, whatever the hardware (perturbation methods).</summary>
    public const string PipelinedPath = "in-process-pipelined";
    public const string ClusterPath = "cluster";
    public const string GrpcPath = "grpc";
    public static readonly string[] PathNames = [InProcessPath, SerialPath, PipelinedPath, ClusterPath, GrpcPath];

    public static readonly string[] DefaultModels =
    [
        "mobilenetv2-12-fp32-dequant.onnx", "mobilenetv2-12-int8.onnx",
        "squeezenet1.0-fp32.onnx", "squeezenet1.0-fp16.onnx",
        "shufflenet-v2-12-fp32-dequant.onnx", "shufflenet-v2-12-qdq.onnx",
    ];
    /// <summary>
    /// Quantized models whose ops have no backward rule, with the float32 model they were made from: gradient methods
    /// differentiate the twin (twin_model_sha256, the CLI's --twin) while the quantized model gives the scores.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> Twins = new Dictionary<string, string>
    {
        ["mobilenetv2-12-int8.onnx"] = "mobilenetv2-12-fp32-dequant.onnx",
    };

    public static readonly int[] FullBatchSweep = [1, 2, 4, 8, 16, 32, 64];
    public static readonly int[] QuickBatchSweep = [1, 32];

    public IReadOnlyList<string> Models { get; init; } = DefaultModels;
    public IReadOnlyList<string> Methods { get; init; } = BenchMethod.Names;
    public IReadOnlyList<string> Paths { get; init; } = PathNames;
    public string? Shared { get; init; }
    public string? Image { get; init; }
    public int Window { get; init; } = 16;
    public int Stride { get; init; } = 8;
    public int Samples { get; init; } = 1000;
    public double CoarseToFineThreshold { get; init; } = 0.25;
    public ExecutionProviderPreference Provider { get; init; } = ExecutionProviderPreference.Cpu;
    public double SecondsPerBatchSize { get; init; } = 3;
    /// <summary>ONNX Runtime's intra-op threads for every session the bench builds (0: ONNX Runtime's default).</summary>
    public int IntraOpThreads { get; init; }
    /// <summary>
    /// Worker actors (serve --workers), each with its own sessions: on the cluster's node, in-process, and as sessions
    /// side by side in raw; 0 (the default) lays the cores out as `serve` does (WorkerOptions.ForHardware).
    /// </summary>
    public int Workers { get; init; }

    /// <summary>
    /// How the worker of every path reports the batch its jobs are planned with: <see cref="SweepJobBatch"/> (0, the
    /// default), <see cref="LargestJobBatch"/> (-1), or a configured batch (positive).
    /// </summary>
    public int JobBatch { get; init; } = SweepJobBatch;
    public const int SweepJobBatch = 0;
    public const int LargestJobBatch = -1;

    /// <summary>Raw/row pairs measured per explanation row, interleaved (raw, row, raw, row, …).</summary>
    public int Repeats { get; init; } = 3;
    public bool Quick { get; init; }
    public string? Json { get; init; }
    public string? Results { get; init; }
    /// <summary>Measure the control plane (ControlPlane/ControlPlaneRun) instead of the data path.</summary>
    public bool ControlPlane { get; init; }

    public static readonly string[] ControlPlaneSectionNames = ["throughput", "memory", "recovery", "list"];

    /// <summary>The control-plane sections to run (all by default); a subset cannot replace the section of a results file.</summary>
    public IReadOnlyList<string> ControlPlaneSections { get; init; } = ControlPlaneSectionNames;

    /// <summary>
    /// The short methods' fixed per-job cost: MobileNetV2, occlusion, lime, gradcam and ig32 on the in-process, cluster and
    /// grpc paths (unless given), raw at batch 1 and 32; --results writes only its own section of the file.
    /// </summary>
    public bool FixedCost { get; init; }

    /// <summary>Compare the ways of spending the cores on inference (<see cref="RawLayouts"/>) instead of measuring jobs.</summary>
    public bool Layouts { get; init; }

    /// <summary>The methods <c>--fixed-cost</c> measures: the ones a user runs one image at a time.</summary>
    public static readonly string[] ShortMethods =
        [BenchMethod.OcclusionName, BenchMethod.LimeName, BenchMethod.GradCamName, BenchMethod.IntegratedGradientsName];

    public IReadOnlyList<int> BatchSweep => Quick || FixedCost ? QuickBatchSweep : FullBatchSweep;

    /// <summary>The methods to measure, each with this run's parameters.</summary>
    public IReadOnlyList<BenchMethod> BenchMethods => [.. Methods.Select(name => BenchMethod.Create(name, this))];

    /// <summary>
    /// The worker's defaults, with the layout `serve` picks (WorkerOptions.ForHardware: on a CPU one single-threaded
    /// worker per core, unless --workers or --intra-op-threads say otherwise), but for the provider, so every path and
    /// raw build the same kind of sessions side by side, the batch it
    /// reports for planning (<see cref="JobBatch"/>), and its largest batch: the raw sweep's, so the worker's own sweep
    /// (and a job) can reach the batch the ratios are taken against (serve --max-batch 64 --batch-sweep).
    /// </summary>
    public WorkerOptions Worker => new WorkerOptions
    {
        ExecutionProvider = Provider, IntraOpThreads = IntraOpThreads, Workers = Workers, SweepBatch = JobBatch == SweepJobBatch,
        Batch = Math.Max(0, JobBatch), MaxBatch = Math.Max(new WorkerOptions().MaxBatch, BatchSweep.Max()),
    }.ForHardware(ExecutionProviders.RunsOnCuda(Provider));

    /// <summary>How the jobs' batch was chosen, for the run's description.</summary>
    public string JobBatchDescription => JobBatch switch
    {
        SweepJobBatch => $"the worker's sweep (batches {string.Join(", ", Lantern.Worker.Inference.BatchSweep.Candidates(Worker.MaxBatch))} timed when it " +
                         $"loads the model, the smallest within {(1 - Lantern.Worker.Inference.BatchSweep.Tolerance) * 100:F0} % of the fastest)",
        LargestJobBatch => $"the worker's largest batch ({Worker.MaxBatch}) within the item size, no sweep",
        var n => $"configured on the worker: {n}",
    };

    /// <exception cref="ArgumentException">An unknown option or a bad value; the message says which.</exception>
    public static BenchOptions Parse(IReadOnlyList<string> args)
    {
        var options = new BenchOptions();
        for (var i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            options = args[i] switch
            {
                "--models" => options with { Models = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) },
                "--methods" => options with { Methods = ParseList(Value(), "--methods", BenchMethod.Names) },
                "--samples" => options with { Samples = Positive(Value(), "--samples") },
                "--shared" => options with { Shared = Value() },
                "--image" => options with { Image = Value() },
                "--window" => options with { Window = Positive(Value(), "--window") },
                "--stride" => options with { Stride = Positive(Value(), "--stride") },
                "--provider" => options with { Provider = ParseProvider(Value()) },
                "--workers" => options with { Workers = Positive(Value(), "--workers") },
                "--intra-op-threads" => options with { IntraOpThreads = Positive(Value(), "--intra-op-threads") },
                "--seconds" => options with { SecondsPerBatchSize = Seconds(Value()) },
                "--c2f-threshold" => options with { CoarseToFineThreshold = Fraction(Value()) },
                "--quick" => options with { Quick = true },
                "--control-plane" => options with { ControlPlane = true },
                "--sections" => options with { ControlPlaneSections = ParseList(Value(), "--sections", ControlPlaneSectionNames) },
                "--fixed-cost" => options with { FixedCost = true },
                "--layouts" => options with { Layouts = true },
                "--repeats" => options with { Repeats = Positive(Value(), "--repeats") },
                "--job-batch" => options with { JobBatch = ParseJobBatch(Value()) },
                "--json" => options with { Json = Value() },
                "--results" => options with { Results = Value() },
                "--paths" => options with { Paths = ParseList(Value(), "--paths", PathNames) },
                var other => throw new ArgumentException($"unknown option '{other}'"),
            };
        }
        // --quick measures one model and occlusion only, unless the caller named the models or the methods.
        if (options.Quick && !args.Contains("--models")) options = options with { Models = [DefaultModels[0]] };
        if (options.Quick && !args.Contains("--methods")) options = options with { Methods = [BenchMethod.OcclusionName] };
        if (options.FixedCost && !args.Contains("--models")) options = options with { Models = [DefaultModels[0]] };
        if (options.FixedCost && !args.Contains("--methods")) options = options with { Methods = ShortMethods };
        if (options.FixedCost && !args.Contains("--paths")) options = options with { Paths = [InProcessPath, ClusterPath, GrpcPath] };
        if (options.Results is not null && options.ControlPlaneSections.Count < ControlPlaneSectionNames.Length)
            throw new ArgumentException("--sections runs part of the control-plane bench: its figures cannot replace the section of a results file");
        return options;
    }

    private static string[] ParseList(string text, string option, string[] allowed)
    {
        var names = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToArray();
        if (names.Length == 0) throw new ArgumentException($"{option} needs at least one name");
        foreach (var name in names)
            if (!allowed.Contains(name))
                throw new ArgumentException($"{option} '{name}' is not one of: {string.Join(", ", allowed)}");
        return names;
    }

    private static int Positive(string text, string option) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v > 0
            ? v
            : throw new ArgumentException($"{option} takes a positive whole number, got '{text}'");

    private static int ParseJobBatch(string text) => text switch
    {
        "sweep" => SweepJobBatch,
        "largest" => LargestJobBatch,
        _ when int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0 => n,
        _ => throw new ArgumentException($"--job-batch takes sweep, largest or a positive whole number, got '{text}'"),
    };

    private static double Seconds(string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v > 0
            ? v
            : throw new ArgumentException($"--seconds takes a positive number, got '{text}'");

    private static double Fraction(string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v >= 0 && v <= 1
            ? v
            : throw new ArgumentException($"--c2f-threshold takes a fraction between 0 and 1, got '{text}'");

    private static ExecutionProviderPreference ParseProvider(string text) => text switch
    {
        "cpu" => ExecutionProviderPreference.Cpu,
        "auto" => ExecutionProviderPreference.Auto,
        "cuda" => ExecutionProviderPreference.Cuda,
        _ => throw new ArgumentException($"--provider '{text}' is not one of: cpu, auto, cuda"),
    };
}
