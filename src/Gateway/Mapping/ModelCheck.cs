using Lantern.Contracts.Api;
using Lantern.Models;
using Microsoft.ML.OnnxRuntime;

namespace Lantern.Gateway.Mapping;

/// <summary>
/// What a model must pass to be registered: ONNX Runtime loads it, it has exactly one input and that input is an image
/// (float32 or float16, 3 channels), and a forward pass on a blank image of the registered size runs and gives finite
/// scores. Each failure is INVALID_ARGUMENT with the reason, so a broken model is refused at the door, not by its first job.
/// </summary>
public static class ModelCheck
{
    private const int MaxSide = 8192;
    private const long MaxPixels = (long)MaxSide * MaxSide;

    public static void Run(byte[] bytes, OnnxModelInfo info, Preprocessing preprocessing)
    {
        using var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, IntraOpNumThreads = 1 };
        InferenceSession session;
        try
        {
            session = new InferenceSession(bytes, options);
        }
        catch (OnnxRuntimeException e)
        {
            GrpcErrors.InvalidArgument($"ONNX Runtime cannot load the model: {e.Message}");
            return;
        }
        using (session)
        {
            var inputs = session.InputMetadata.Keys.ToList();
            if (inputs.Count != 1)
                GrpcErrors.InvalidArgument(
                    $"the model has {inputs.Count} inputs ({string.Join(", ", inputs)}); Lantern explains models with one image input");
            // A free-size model takes the registered size; 8192x8192 is far beyond any classifier and keeps the blank
            // image under a gigabyte.
            if ((long)preprocessing.Width * preprocessing.Height > MaxPixels)
                GrpcErrors.InvalidArgument(
                    $"preprocessing size {preprocessing.Width}x{preprocessing.Height} is larger than {MaxSide}x{MaxSide}; register the size the model was trained at");
            long[] shape = info.ChannelsFirst ? [1, 3, preprocessing.Height, preprocessing.Width] : [1, preprocessing.Height, preprocessing.Width, 3];
            var count = (int)(3L * preprocessing.Height * preprocessing.Width);
            using var input = info.InputType == TensorElementKind.Float16
                ? OrtValue.CreateTensorValueFromMemory(new Float16[count], shape)
                : OrtValue.CreateTensorValueFromMemory(new float[count], shape);
            using var runOptions = new RunOptions();
            var output = session.OutputNames[0];
            try
            {
                using var results = session.Run(runOptions, [inputs[0]], [input], [output]);
                var scores = results[0].GetTensorTypeAndShape().ElementDataType switch
                {
                    Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float => results[0].GetTensorDataAsSpan<float>().ToArray(),
                    Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float16 => [.. results[0].GetTensorDataAsSpan<Float16>().ToArray().Select(h => (float)h)],
                    var other => GrpcErrors.InvalidArgument<float[]>($"the model's output '{output}' is {other}; Lantern reads float scores"),
                };
                if (scores.Any(s => !float.IsFinite(s)))
                    GrpcErrors.InvalidArgument($"a forward pass on a blank {preprocessing.Width}x{preprocessing.Height} image gives non-finite scores (NaN or infinity)");
            }
            catch (OnnxRuntimeException e)
            {
                GrpcErrors.InvalidArgument(
                    $"a forward pass on a blank {preprocessing.Width}x{preprocessing.Height} image failed in ONNX Runtime: {e.Message}");
            }
        }
    }
}
