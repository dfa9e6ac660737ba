using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace Lantern.Gradients.Tests.Support;

/// <summary>A float32 tensor: row-major data and its shape.</summary>
public sealed record Tensor(float[] Data, long[] Shape)
{
    public long Count => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>Elements per batch row (everything but the first dimension).</summary>
    public int RowLength => (int)(Data.Length / Shape[0]);
}

/// <summary>One ONNX Runtime session on the CPU provider, fed and read as float32 tensors.</summary>
public sealed class OrtModel : IDisposable
{
    private readonly InferenceSession session;

    public OrtModel(byte[] model)
    {
        using var options = new SessionOptions
        {
            // One thread: reproducible float sums, and the specs run in parallel classes anyway.
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        session = new InferenceSession(model, options);
    }

    public IReadOnlyList<string> InputNames => session.InputNames;

    public IReadOnlyList<string> OutputNames => session.OutputNames;

    public Dictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs, IReadOnlyList<string>? outputs = null)
    {
        outputs ??= session.OutputNames;
        var names = inputs.Keys.ToArray();
        var values = names.Select(n => OrtValue.CreateTensorValueFromMemory(inputs[n].Data, inputs[n].Shape)).ToArray();
        try
        {
            using var runOptions = new RunOptions();
            using var results = session.Run(runOptions, names, values, outputs.ToArray());
            var map = new Dictionary<string, Tensor>();
            for (var i = 0; i < outputs.Count; i++)
            {
                var info = results[i].GetTensorTypeAndShape();
                map[outputs[i]] = new Tensor(results[i].GetTensorDataAsSpan<float>().ToArray(), info.Shape);
            }
            return map;
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }
    }

    public Tensor Run(string inputName, Tensor input, string output) =>
        Run(new Dictionary<string, Tensor> { [inputName] = input }, [output])[output];

    public void Dispose() => session.Dispose();
}

/// <summary>Edits of an ONNX model that the finite-difference checks need.</summary>
public static class ModelSurgery
{
    public static ModelProto Parse(byte[] model) => ModelProto.Parser.ParseFrom(model);

    /// <summary>The first graph input that is not an initializer.</summary>
    public static string InputName(byte[] model)
    {
        var proto = Parse(model);
        var initializers = proto.Graph.Initializer.Select(i => i.Name).ToHashSet();
        return proto.Graph.Input.First(i => !initializers.Contains(i.Name)).Name;
    }

    /// <summary>The model with <paramref name="tensors"/> also exposed as graph outputs (float32, shape unspecified).</summary>
    public static byte[] WithOutputs(byte[] model, params string[] tensors)
    {
        var proto = Parse(model);
        foreach (var t in tensors.Where(t => proto.Graph.Output.All(o => o.Name != t)))
            proto.Graph.Output.Add(OnnxGraph.Value(t, TensorProto.Types.DataType.Float, null));
        return proto.ToByteArray();
    }

    /// <summary>
    /// The model with intermediate <paramref name="tensor"/> cut loose from its producer and fed as a graph input of
    /// <paramref name="shape"/>, so the target can be evaluated as a function of that tensor (the original input stays, for
    /// other branches that read it). The producer must have that tensor as its only output.
    /// </summary>
    public static byte[] WithTensorAsInput(byte[] model, string tensor, long[] shape)
    {
        var proto = Parse(model);
        var producer = proto.Graph.Node.Single(n => n.Output.Contains(tensor));
        if (producer.Output.Count(o => o.Length > 0) != 1)
            throw new InvalidOperationException($"{tensor}'s producer {producer.Name} has several outputs");
        proto.Graph.Node.Remove(producer);
        proto.Graph.Input.Add(OnnxGraph.Value(tensor, TensorProto.Types.DataType.Float, shape));
        return proto.ToByteArray();
    }

    public static float[] FloatInitializer(byte[] model, string name)
    {
        var t = Parse(model).Graph.Initializer.Single(i => i.Name == name);
        if (t.FloatData.Count > 0) return t.FloatData.ToArray();
        var raw = t.RawData.ToByteArray();
        var values = new float[raw.Length / 4];
        Buffer.BlockCopy(raw, 0, values, 0, raw.Length);
        return values;
    }
}
