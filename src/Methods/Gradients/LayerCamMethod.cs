using System.Text.Json.Nodes;
using Lantern.Contracts.Messages;
using Lantern.Explainers.Gradients;
using Lantern.Gradients;

namespace Lantern.Methods.Gradients;

/// <summary>
/// Class activation maps of a feature layer from one evaluation: Grad-CAM (weights = mean gradient per channel), Grad-CAM++,
/// and CAM (weights = the classifier head's, for a global-average-pool + linear head; Grad-CAM × the layer's pixel count
/// there). ReLU, then bilinear upsampling to the input, as MATLAB's gradCAM and pytorch-grad-cam.
/// </summary>
public sealed class LayerCamMethod(GradientOptions options, JobSpec spec) : IGradientMethod
{
    private readonly GradientGeometry _geometry = new(spec);
    private readonly GradientMethodKind _kind = GradientMethodNames.Parse(options.Method);

    public string Name => options.Method;
    public long PerturbationCount => 1;
    public int MapLength => _geometry.LayerPixels;
    private bool Backpropagates => _kind != GradientMethodKind.Cam;
    public bool NeedsCamHead => _kind == GradientMethodKind.Cam;

    public GradientRequest Request(string inputName) => new()
    {
        GradientOf = Backpropagates ? [options.Layer] : [],
        ValuesOf = [options.Layer],
    };

    public IGradientEvaluation Prepare(GradientJobInputs inputs)
    {
        if (_kind == GradientMethodKind.Cam && inputs.CamHead is null)
            throw new InvalidOperationException($"CAM needs a global-average-pool + linear head after layer '{options.Layer}'");
        return new Evaluation(inputs.Input, _kind, inputs.CamHead);
    }

    public MethodOutput Assemble(ReadOnlySpan<float> baseline, ReadOnlySpan<float> scores, ReadOnlySpan<float> itemMaps, int[] targets)
    {
        var maps = new List<OutputMap>();
        for (var t = 0; t < targets.Length; t++)
        {
            var cam = GradientGeometry.Relu(GradientGeometry.SumItems(itemMaps, targets.Length, t, MapLength));
            maps.Add(new OutputMap(targets[t], 0, "", _geometry.LayerMapToImage(cam)));
        }
        return new MethodOutput(maps);
    }

    public JsonObject Parameters() => new()
    {
        ["method"] = options.Method,
        ["layer"] = options.Layer,
        ["layer_shape"] = new JsonArray(_geometry.LayerChannels, _geometry.LayerHeight, _geometry.LayerWidth),
        ["weights"] = _kind switch
        {
            GradientMethodKind.GradCam => "mean gradient of the target over each channel",
            GradientMethodKind.GradCamPlusPlus => "Grad-CAM++ (second/third-order gradient terms, as pytorch-grad-cam)",
            _ => "classifier head weights of the target class",
        },
        ["target"] = "logits when the model ends in softmax",
    };

    private sealed class Evaluation(float[] input, GradientMethodKind kind, CamHeadWeights? head) : IGradientEvaluation
    {
        public void Write(long index, Span<float> tensor) => input.CopyTo(tensor);

        public void Accumulate(in GradientRow row, Span<float> map)
        {
            switch (kind)
            {
                case GradientMethodKind.GradCam:
                    CamWeights.AddGradCam(row.LayerValues, row.LayerGradient, map);
                    break;
                case GradientMethodKind.GradCamPlusPlus:
                    CamWeights.AddGradCamPlusPlus(row.LayerValues, row.LayerGradient, map);
                    break;
                default:
                    CamWeights.AddWeighted(row.LayerValues, head!.Weights.AsSpan(row.TargetClass * head.Channels, head.Channels), map);
                    break;
            }
        }
    }
}
