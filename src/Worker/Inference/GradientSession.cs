using Lantern.Contracts.Messages;
using Microsoft.ML.OnnxRuntime;

namespace Lantern.Worker.Inference;

/// <summary>
/// One ONNX Runtime session of a gradient model (the model with its backward pass appended): runs rows of (input, seed)
/// and keeps the score, the input gradient and the feature layer's values and gradient of each row in reusable buffers.
/// Not thread-safe, like <see cref="ModelSession"/>.
/// </summary>
public sealed class GradientSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly GradientModelIo _io;
    private readonly long[] _inputShape;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private float[] _input = [];
    private float[] _seed = [];

    /// <param name="inputShape">The model input's shape without the batch dimension, e.g. [3,224,224].</param>
    public GradientSession(byte[] modelBytes, GradientModelIo io, long[] inputShape, SessionOptions options, int maxBatch)
    {
        _session = new InferenceSession(modelBytes, options);
        _io = io;
        _inputShape = inputShape;
        _inputNames = [io.Input, io.Seed];
        _outputNames = [.. new[] { io.Score, io.InputGradient, io.LayerValue, io.LayerGradient }.Where(n => n.Length > 0)];
        MaxBatch = io.BatchIsFixed ? 1 : Math.Max(1, maxBatch);
        InputLength = (int)inputShape.Aggregate(1L, (a, b) => a * b);
        SeedLength = (int)io.SeedShape.Aggregate(1L, (a, b) => a * b);
        // The backward pass keeps every activation alive: budget more than a forward session.
        EstimatedBytes = 4L * modelBytes.Length;
    }

    public int MaxBatch { get; }
    public int InputLength { get; }
    public int SeedLength { get; }
    public long EstimatedBytes { get; }

    public float[] Scores { get; private set; } = [];
    public float[] InputGradients { get; private set; } = [];
    public float[] LayerValues { get; private set; } = [];
    public float[] LayerGradients { get; private set; } = [];

    /// <summary>Values per row of the feature layer (its values and its gradient), as the last run returned them.</summary>
    public int LayerLength { get; private set; }

    public Span<float> InputBuffer(int rows)
    {
        if (_input.Length < MaxBatch * InputLength) _input = new float[MaxBatch * InputLength];
        return _input.AsSpan(0, rows * InputLength);
    }

    /// <summary>Seeds for <paramref name="rows"/> rows, zeroed: set each row's target weights.</summary>
    public Span<float> SeedBuffer(int rows)
    {
        if (_seed.Length < MaxBatch * SeedLength) _seed = new float[MaxBatch * SeedLength];
        var seeds = _seed.AsSpan(0, rows * SeedLength);
        seeds.Clear();
        return seeds;
    }

    /// <summary>Runs the first <paramref name="rows"/> rows of the input and seed buffers; results land in the output arrays, row-major.</summary>
    public void Run(int rows)
    {
        using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance,
            _input.AsMemory(0, rows * InputLength), [rows, .. _inputShape]);
        using var seed = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance,
            _seed.AsMemory(0, rows * SeedLength), [rows, .. _io.SeedShape]);
        using var outputs = _session.Run(_runOptions, _inputNames, [input, seed], _outputNames);
        var i = 0;
        Scores = Copy(outputs[i++], Scores);
        if (_io.InputGradient.Length > 0) InputGradients = Copy(outputs[i++], InputGradients);
        if (_io.LayerValue.Length > 0)
        {
            LayerLength = (int)(outputs[i].GetTensorTypeAndShape().ElementCount / rows);
            LayerValues = Copy(outputs[i++], LayerValues);
        }
        if (_io.LayerGradient.Length > 0) LayerGradients = Copy(outputs[i], LayerGradients);
    }

    private static float[] Copy(OrtValue value, float[] buffer)
    {
        var data = value.GetTensorDataAsSpan<float>();
        if (buffer.Length < data.Length) buffer = new float[data.Length];
        data.CopyTo(buffer);
        return buffer;
    }

    public void Dispose()
    {
        _session.Dispose();
        _runOptions.Dispose();
    }
}
