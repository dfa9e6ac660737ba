using Lantern.Contracts.Messages;
using Microsoft.ML.OnnxRuntime;

namespace Lantern.Worker.Inference;

/// <summary>
/// One ONNX Runtime session of a gradient model (the model with its backward pass appended): runs rows of (input, seed)
/// and keeps the score, the input gradient and the feature layer's values and gradient of each row in reusable buffers.
/// Not thread-safe, like <see cref="ModelSession"/>.
/// <para>As in <see cref="ModelSession"/>, the OrtValues over the buffers are kept per row count, so a run allocates no
/// tensors and copies nothing: ONNX Runtime writes the gradients straight into the arrays the methods read. The
/// session's first run lets ONNX Runtime allocate the outputs, to learn their shapes (the layer's is the gradient
/// model's business); every later run is bound.</para>
/// </summary>
public sealed class GradientSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly GradientModelIo _io;
    private readonly long[] _inputShape;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly float[][] _outputs;
    private long[][]? _outputShapes; // per output, without the row dimension; learned from the first run
    private float[] _input = [];
    private float[] _seed = [];
    private readonly Dictionary<int, BoundRows> _bound = [];

    /// <summary>The OrtValues of one row count: the input and the seed, then the outputs.</summary>
    private sealed record BoundRows(OrtValue[] Inputs, OrtValue[] Outputs);

    /// <param name="inputShape">The model input's shape without the batch dimension, e.g. [3,224,224].</param>
    public GradientSession(byte[] modelBytes, GradientModelIo io, long[] inputShape, SessionOptions options, int maxBatch)
    {
        _session = new InferenceSession(modelBytes, options);
        _io = io;
        _inputShape = inputShape;
        _inputNames = [io.Input, io.Seed];
        _outputNames = [.. new[] { io.Score, io.InputGradient, io.LayerValue, io.LayerGradient }.Where(n => n.Length > 0)];
        _outputs = new float[_outputNames.Length][];
        Array.Fill(_outputs, []);
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

    public float[] Scores => _outputs[0];
    public float[] InputGradients => Output(_io.InputGradient);
    public float[] LayerValues => Output(_io.LayerValue);
    public float[] LayerGradients => Output(_io.LayerGradient);

    /// <summary>Values per row of the feature layer (its values and its gradient).</summary>
    public int LayerLength { get; private set; }

    public Span<float> InputBuffer(int rows)
    {
        // Allocated once at full size: the OrtValues bound over it stay valid for the session's life.
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
    /// <param name="runOptions">The request's options (its terminate flag stops the run); the session's own when null.</param>
    public void Run(int rows, RunOptions? runOptions = null)
    {
        if ((uint)rows - 1 >= (uint)MaxBatch)
            throw new ArgumentOutOfRangeException(nameof(rows), rows, $"rows must be 1..{MaxBatch}");
        InputBuffer(rows);
        SeedBuffer(0);
        if (_outputShapes is null)
        {
            RunLearningOutputShapes(rows, runOptions ?? _runOptions);
            return;
        }
        if (!_bound.TryGetValue(rows, out var bound)) _bound[rows] = bound = Bind(rows);
        _session.Run(runOptions ?? _runOptions, _inputNames, bound.Inputs, _outputNames, bound.Outputs);
    }

    private float[] Output(string name)
    {
        var index = Array.IndexOf(_outputNames, name);
        return name.Length > 0 && index >= 0 ? _outputs[index] : [];
    }

    /// <summary>
    /// The session's first run, with ONNX Runtime allocating the outputs: their shapes size the buffers (at
    /// <see cref="MaxBatch"/> rows), and the results are copied there.
    /// </summary>
    private void RunLearningOutputShapes(int rows, RunOptions runOptions)
    {
        using var input = Tensor(_input, rows, _inputShape);
        using var seed = Tensor(_seed, rows, [.. _io.SeedShape]);
        using var outputs = _session.Run(runOptions, _inputNames, [input, seed], _outputNames);
        _outputShapes = new long[_outputNames.Length][];
        for (var i = 0; i < _outputNames.Length; i++)
        {
            var shape = outputs[i].GetTensorTypeAndShape().Shape;
            if (shape.Length == 0 || shape[0] != rows)
                throw new InvalidOperationException($"gradient model output {_outputNames[i]} has shape [{string.Join(',', shape)}], not {rows} rows first");
            _outputShapes[i] = shape[1..];
            _outputs[i] = new float[MaxBatch * RowLength(_outputShapes[i])];
            outputs[i].GetTensorDataAsSpan<float>().CopyTo(_outputs[i]);
        }
        var layer = Array.IndexOf(_outputNames, _io.LayerValue);
        LayerLength = _io.LayerValue.Length > 0 && layer >= 0 ? RowLength(_outputShapes[layer]) : 0;
    }

    /// <summary>Input, seed, then each output, over the session's buffers for <paramref name="rows"/> rows.</summary>
    private BoundRows Bind(int rows) => new(
        [Tensor(_input, rows, _inputShape), Tensor(_seed, rows, [.. _io.SeedShape])],
        [.. _outputShapes!.Select((shape, i) => Tensor(_outputs[i], rows, shape))]);

    private static OrtValue Tensor(float[] buffer, int rows, long[] rowShape) =>
        OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, buffer.AsMemory(0, rows * RowLength(rowShape)),
            [rows, .. rowShape]);

    private static int RowLength(long[] rowShape) => (int)rowShape.Aggregate(1L, (a, b) => a * b);

    public void Dispose()
    {
        foreach (var value in _bound.Values.SelectMany(b => b.Inputs.Concat(b.Outputs))) value.Dispose();
        _bound.Clear();
        _session.Dispose();
        _runOptions.Dispose();
    }
}
