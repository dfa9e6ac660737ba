using Lantern.Gradients.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Lantern.Gradients.Tests.Models;

/// <summary>The shared models, their inputs and the tench photo preprocessed as PROVENANCE.md §2 prescribes.</summary>
public static class RealModels
{
    public const string SqueezeNet = "squeezenet1.0-fp32.onnx";
    public const string SqueezeNetFp16 = "squeezenet1.0-fp16.onnx";
    public const string MobileNet = "mobilenetv2-12-fp32-dequant.onnx";
    public const string MobileNetInt8 = "mobilenetv2-12-int8.onnx";
    public const string ShuffleNet = "shufflenet-v2-12-fp32-dequant.onnx";
    public const string ShuffleNetQdq = "shufflenet-v2-12-qdq.onnx";

    private static readonly Dictionary<string, byte[]> Cache = [];

    public static byte[] Bytes(string file)
    {
        lock (Cache)
        {
            if (!Cache.TryGetValue(file, out var bytes)) Cache[file] = bytes = SharedData.Model(file);
            return bytes;
        }
    }

    private static readonly Dictionary<string, Lazy<GradientModel>> InputGradients = [];
    private static readonly Dictionary<string, Lazy<IReadOnlyList<LayerInfo>>> Catalogs = [];

    /// <summary>The input-gradient model of <paramref name="file"/>, built once for all specs (a build probes shapes by running the model).</summary>
    public static GradientModel InputGradientModel(string file)
    {
        Lazy<GradientModel> lazy;
        lock (InputGradients)
        {
            if (!InputGradients.TryGetValue(file, out lazy!))
                InputGradients[file] = lazy = new(() => GradientModelBuilder.Build(Bytes(file),
                    new GradientRequest { GradientOf = [ModelSurgery.InputName(Bytes(file))] }));
        }
        return lazy.Value;
    }

    /// <summary>LayerCatalog.List of <paramref name="file"/>, computed once.</summary>
    public static IReadOnlyList<LayerInfo> Layers(string file)
    {
        Lazy<IReadOnlyList<LayerInfo>> lazy;
        lock (Catalogs)
        {
            if (!Catalogs.TryGetValue(file, out lazy!)) Catalogs[file] = lazy = new(() => LayerCatalog.List(Bytes(file)));
        }
        return lazy.Value;
    }

    /// <summary>tench.png (already 224×224) as a [1,3,224,224] tensor for <paramref name="file"/>'s preprocessing.</summary>
    public static Tensor Tench(string file)
    {
        using var image = Image.Load<Rgb24>(SharedData.Image("tench.png"));
        Assert.Equal((224, 224), (image.Width, image.Height));
        var data = new float[3 * 224 * 224];
        var caffe = file.StartsWith("squeezenet", StringComparison.Ordinal);
        float[] mean = [0.485f, 0.456f, 0.406f], std = [0.229f, 0.224f, 0.225f];
        float[] bgrMean = [104f, 117f, 123f];
        for (var y = 0; y < 224; y++)
            for (var x = 0; x < 224; x++)
            {
                var p = image[x, y];
                byte[] rgb = [p.R, p.G, p.B];
                for (var c = 0; c < 3; c++)
                {
                    // SqueezeNet (Caffe): BGR 0–255 minus the per-channel mean. The others: RGB/255 then ImageNet mean/std.
                    data[(c * 224 + y) * 224 + x] = caffe ? rgb[2 - c] - bgrMean[c] : (rgb[c] / 255f - mean[c]) / std[c];
                }
            }
        return new Tensor(data, [1, 3, 224, 224]);
    }

    /// <summary>Runs the original model and returns the target tensor's argmax (the model's top class).</summary>
    public static int TopClass(byte[] model, Tensor input, string target)
    {
        using var session = new OrtModel(ModelSurgery.WithOutputs(model, target));
        var t = session.Run(ModelSurgery.InputName(model), input, target).Data;
        return Array.IndexOf(t, t.Max());
    }

    public static float[] OneHot(int classes, int k)
    {
        var seed = new float[classes];
        seed[k] = 1;
        return seed;
    }

    /// <summary>
    /// A smooth direction: per channel, a random 5×5 grid of values in [-1, 1] bilinearly upsampled over H×W. Its
    /// inner product with the gradient sums coherent regions, which keeps it far above float32 noise, where a white-noise
    /// direction mostly cancels.
    /// </summary>
    public static float[] SmoothDirection(Random random, long[] shape)
    {
        var (n, c, h, w) = ((int)shape[0], (int)shape[1], (int)shape[2], (int)shape[3]);
        var v = new float[n * c * h * w];
        const int grid = 5;
        for (var plane = 0; plane < n * c; plane++)
        {
            var knots = Enumerable.Range(0, grid * grid).Select(_ => 2 * random.NextDouble() - 1).ToArray();
            for (var y = 0; y < h; y++)
                for (var x = 0; x < w; x++)
                {
                    var gy = (double)y / (h - 1) * (grid - 1);
                    var gx = (double)x / (w - 1) * (grid - 1);
                    int y0 = Math.Min((int)gy, grid - 2), x0 = Math.Min((int)gx, grid - 2);
                    double fy = gy - y0, fx = gx - x0;
                    var value = knots[y0 * grid + x0] * (1 - fy) * (1 - fx) + knots[y0 * grid + x0 + 1] * (1 - fy) * fx
                        + knots[(y0 + 1) * grid + x0] * fy * (1 - fx) + knots[(y0 + 1) * grid + x0 + 1] * fy * fx;
                    v[(plane * h + y) * w + x] = (float)value;
                }
        }
        return v;
    }

    public static double Cosine(float[] a, float[] b)
    {
        double ab = 0, aa = 0, bb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            ab += (double)a[i] * b[i];
            aa += (double)a[i] * a[i];
            bb += (double)b[i] * b[i];
        }
        return ab / Math.Sqrt(aa * bb);
    }
}
