using Lantern.Models;
using Microsoft.ML.OnnxRuntime;

namespace Lantern.Worker.Inference;

/// <summary>
/// One ONNX Runtime session for one model, with reusable input/output buffers. Runs a batch of preprocessed images
/// and returns every output score. Not thread-safe: a worker runs one batch at a time per session.
/// <para>The buffers are allocated once, at <see cref="MaxBatch"/>, and the OrtValues over them are kept per batch size
/// (in practice two: the full batch and a job's last, shorter one), so a run allocates neither managed nor native
/// tensors: ONNX Runtime reads the input from, and writes the scores into, memory pinned for the session's life.</para>
/// </summary>
public sealed class ModelSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    /// <summary>Input buffers a caller can fill while a run reads another (see <see cref="InputBuffer"/>).</summary>
    public const int InputSlots = 2;

    private readonly float[][] _inputs = new float[InputSlots][];
    // What each tensor of each slot holds when WritePerturbed wrote it last (null perturber: unknown). It keeps that
    // perturber alive until the tensor is written again: the worker's latest job's, in practice.
    private readonly (Explainers.IPerturber? Perturber, long Index)[][] _held = new (Explainers.IPerturber?, long)[InputSlots][];
    private readonly Float16[][] _inputsHalf = new Float16[InputSlots][];
    private float[] _output = [];
    private Float16[] _outputHalf = [];
    private readonly Dictionary<(int Batch, int Slot), BoundBatch> _bound = [];

    /// <summary>The OrtValues of one batch size, over the session's input and output buffers.</summary>
    private sealed record BoundBatch(OrtValue[] Inputs, OrtValue[]? Outputs);

    public ModelSession(byte[] modelBytes, OnnxModelInfo info, SessionOptions options, int maxBatch)
    {
        Info = info;
        Array.Fill(_inputs, []);
        Array.Fill(_inputsHalf, []);
        Array.Fill(_held, []);
        _session = new InferenceSession(modelBytes, options);
        _inputNames = [info.InputName];
        _outputNames = [info.OutputName];
        MaxBatch = info.BatchIsFixed ? 1 : Math.Max(1, maxBatch);
        TensorLength = 3 * info.InputHeight * info.InputWidth;
        // Weights, ORT's pre-packed copies and its arena: a rough, conservative multiple of the file size; plus the
        // session's own batch buffers (each slot's float input and its float16 copy for a float16 model, the scores),
        // so that the worker's session cache budget bounds them too.
        var bufferBytes = InputSlots * (long)MaxBatch * TensorLength * (info.InputType == TensorElementKind.Float16 ? 6 : 4)
                          + (long)MaxBatch * Math.Max(0, info.ClassCount) * 4;
        EstimatedBytes = 3L * modelBytes.Length + bufferBytes;
    }

    public long EstimatedBytes { get; }

    /// <summary>
    /// The session the worker runs. A model exported with a fixed batch of 1 runs one image at a time; rewriting its
    /// batch dimension often works, and the rewrite is kept only if a batch of two gives, row by row, what the
    /// original gives for one (ShuffleNet's hard-coded Reshape does not).
    /// </summary>
    /// <param name="stayedAtOne">Why a fixed-batch model could not be batched; null otherwise.</param>
    public static ModelSession Load(byte[] bytes, OnnxModelInfo info, SessionOptions options, int maxBatch, out string? stayedAtOne)
    {
        stayedAtOne = null;
        var original = new ModelSession(bytes, info, options, maxBatch);
        if (!info.BatchIsFixed || maxBatch < 2) return original;
        ModelSession? rewritten = null;
        try
        {
            rewritten = new ModelSession(BatchRewriter.WithSymbolicBatch(bytes), info with { BatchIsFixed = false }, options, maxBatch);
            var probe = new float[original.TensorLength];
            for (var i = 0; i < probe.Length; i++) probe[i] = i % 251 / 251f; // any non-trivial input
            var one = new float[original.ClassCount];
            probe.CopyTo(original.InputBuffer(1));
            original.Run(1, one);
            var two = new float[2 * original.ClassCount];
            var input = rewritten.InputBuffer(2);
            probe.CopyTo(input);
            probe.CopyTo(input[original.TensorLength..]);
            rewritten.Run(2, two);
            for (var i = 0; i < two.Length; i++)
            {
                var expected = one[i % one.Length];
                if (!(Math.Abs(two[i] - expected) <= 1e-4f * Math.Max(1f, Math.Abs(expected))))
                    throw new InvalidOperationException($"a batch of two differs from two batches of one at output {i}");
            }
            original.Dispose();
            return rewritten;
        }
        catch (Exception e) when (e is OnnxRuntimeException or InvalidOperationException)
        {
            stayedAtOne = e.Message.Split('\n')[0];
            rewritten?.Dispose();
            return original;
        }
    }

    public OnnxModelInfo Info { get; }
    public int MaxBatch { get; }
    public int TensorLength { get; }
    public int ClassCount => Info.ClassCount;

    /// <summary>
    /// A buffer for up to <see cref="MaxBatch"/> input tensors, laid end to end; fill it, then <see cref="Run"/> the same
    /// slot. Another thread may fill one slot while a run reads the other: that is how a worker prepares its next batch
    /// while the current one runs.
    /// </summary>
    public Span<float> InputBuffer(int batch, int slot = 0)
    {
        var inputs = Inputs(batch, slot);
        _held[slot].AsSpan(0, batch).Clear(); // the caller may write anything there
        return inputs;
    }

    private Span<float> Inputs(int batch, int slot)
    {
        // Allocated once at full size: the OrtValues bound over it stay valid for the session's life.
        if (_inputs[slot].Length < MaxBatch * TensorLength)
        {
            _inputs[slot] = new float[MaxBatch * TensorLength];
            _held[slot] = new (Explainers.IPerturber?, long)[MaxBatch];
        }
        return _inputs[slot].AsSpan(0, batch * TensorLength);
    }

    /// <summary>
    /// Writes perturbation <paramref name="index"/> into tensor <paramref name="position"/> of a slot's input buffer, as
    /// <see cref="Explainers.IPerturber.Write"/> does: through <see cref="Explainers.IPerturber.Rewrite"/> when the same
    /// perturber wrote that tensor last, so that only what the two perturbations change is redone.
    /// </summary>
    public void WritePerturbed(Explainers.IPerturber perturber, long index, int slot, int position)
    {
        if ((uint)position >= (uint)MaxBatch)
            throw new ArgumentOutOfRangeException(nameof(position), position, $"position must be 0..{MaxBatch - 1}");
        var tensor = Inputs(MaxBatch, slot).Slice(position * TensorLength, TensorLength);
        var previous = _held[slot][position];
        _held[slot][position] = default; // a write that throws leaves the tensor unknown
        if (ReferenceEquals(previous.Perturber, perturber)) perturber.Rewrite(previous.Index, index, tensor);
        else perturber.Write(index, tensor);
        _held[slot][position] = (perturber, index);
    }

    /// <summary>Runs the first <paramref name="batch"/> tensors of a slot's input buffer; writes batch × classes scores.</summary>
    /// <param name="runOptions">The request's options (its terminate flag stops the run); the session's own when null.</param>
    public void Run(int batch, Span<float> scores, int slot = 0, RunOptions? runOptions = null)
    {
        if ((uint)batch - 1 >= (uint)MaxBatch)
            throw new ArgumentOutOfRangeException(nameof(batch), batch, $"batch must be 1..{MaxBatch}");
        var input = Inputs(batch, slot);
        if (!_bound.TryGetValue((batch, slot), out var bound)) _bound[(batch, slot)] = bound = Bind(batch, slot);
        var count = batch * ClassCount;
        if (Info.InputType == TensorElementKind.Float16)
        {
            var half = _inputsHalf[slot];
            for (var i = 0; i < input.Length; i++) half[i] = new Float16(BitConverter.HalfToUInt16Bits((Half)input[i]));
        }

        if (bound.Outputs is null)
        {
            // An output whose shape the file does not pin down: ONNX Runtime allocates it.
            using var outputs = _session.Run(runOptions ?? _runOptions, _inputNames, bound.Inputs, _outputNames);
            CopyScores(outputs[0], count, scores);
            return;
        }
        _session.Run(runOptions ?? _runOptions, _inputNames, bound.Inputs, _outputNames, bound.Outputs);
        if (Info.OutputType == TensorElementKind.Float16)
            for (var i = 0; i < count; i++) scores[i] = (float)BitConverter.UInt16BitsToHalf(_outputHalf[i].value);
        else
            _output.AsSpan(0, count).CopyTo(scores);
    }

    private void CopyScores(OrtValue output, int count, Span<float> scores)
    {
        if (Info.OutputType == TensorElementKind.Float16)
        {
            var half = output.GetTensorDataAsSpan<Float16>();
            for (var i = 0; i < count; i++) scores[i] = (float)BitConverter.UInt16BitsToHalf(half[i].value);
        }
        else
        {
            output.GetTensorDataAsSpan<float>()[..count].CopyTo(scores);
        }
    }

    /// <summary>
    /// OrtValues for a batch size over the session's buffers. The output is bound too when the file gives its shape
    /// (batch first, then dimensions whose product is the class count); otherwise ONNX Runtime allocates it per run.
    /// </summary>
    private BoundBatch Bind(int batch, int slot)
    {
        var length = batch * TensorLength;
        var floats = _inputs[slot];
        if (Info.InputType == TensorElementKind.Float16 && _inputsHalf[slot].Length < floats.Length)
            _inputsHalf[slot] = new Float16[floats.Length];
        var shape = Info.ChannelsFirst
            ? new long[] { batch, 3, Info.InputHeight, Info.InputWidth }
            : new long[] { batch, Info.InputHeight, Info.InputWidth, 3 };
        var input = Info.InputType == TensorElementKind.Float16
            ? OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _inputsHalf[slot].AsMemory(0, length), shape)
            : OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, floats.AsMemory(0, length), shape);

        var outputShape = (long[])Info.OutputShape.Clone();
        var known = outputShape.Length >= 2 && ClassCount > 0 && outputShape.Skip(1).All(d => d > 0);
        if (!known) return new BoundBatch([input], null);
        outputShape[0] = batch;
        var count = batch * ClassCount;
        OrtValue output;
        if (Info.OutputType == TensorElementKind.Float16)
        {
            if (_outputHalf.Length < MaxBatch * ClassCount) _outputHalf = new Float16[MaxBatch * ClassCount];
            output = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _outputHalf.AsMemory(0, count), outputShape);
        }
        else
        {
            if (_output.Length < MaxBatch * ClassCount) _output = new float[MaxBatch * ClassCount];
            output = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _output.AsMemory(0, count), outputShape);
        }
        return new BoundBatch([input], [output]);
    }

    public void Dispose()
    {
        foreach (var bound in _bound.Values)
        {
            foreach (var value in bound.Inputs) value.Dispose();
            foreach (var value in bound.Outputs ?? []) value.Dispose();
        }
        _bound.Clear();
        _session.Dispose();
        _runOptions.Dispose();
    }
}
