namespace Lantern.Explainers.Gradients;

/// <summary>
/// Class activation maps from a feature layer's activations A and gradients G (both C×H×W): map += Σ_k w_k A_k.
/// The ReLU comes at assembly, after the work items are summed.
/// </summary>
public static class CamWeights
{
    /// <summary>Grad-CAM (Selvaraju et al.): w_k = mean over the layer's pixels of G_k.</summary>
    public static void AddGradCam(ReadOnlySpan<float> activations, ReadOnlySpan<float> gradients, Span<float> map)
    {
        var pixels = map.Length;
        var channels = activations.Length / pixels;
        var weights = new float[channels];
        for (var k = 0; k < channels; k++)
        {
            var sum = 0.0;
            foreach (var g in gradients.Slice(k * pixels, pixels)) sum += g;
            weights[k] = (float)(sum / pixels);
        }
        AddWeighted(activations, weights, map);
    }

    /// <summary>
    /// Grad-CAM++ (Chattopadhyay et al.) as pytorch-grad-cam computes it: α = G² / (2G² + ΣA · G³), zero where G = 0;
    /// w_k = Σ over pixels of α · ReLU(G).
    /// </summary>
    public static void AddGradCamPlusPlus(ReadOnlySpan<float> activations, ReadOnlySpan<float> gradients, Span<float> map)
    {
        const double epsilon = 1e-6;
        var pixels = map.Length;
        var channels = activations.Length / pixels;
        var weights = new float[channels];
        for (var k = 0; k < channels; k++)
        {
            var a = activations.Slice(k * pixels, pixels);
            var g = gradients.Slice(k * pixels, pixels);
            var activationSum = 0.0;
            foreach (var value in a) activationSum += value;
            var weight = 0.0;
            for (var p = 0; p < pixels; p++)
            {
                double gp = g[p];
                if (gp == 0) continue;
                var alpha = gp * gp / (2 * gp * gp + activationSum * gp * gp * gp + epsilon);
                weight += alpha * Math.Max(gp, 0);
            }
            weights[k] = (float)weight;
        }
        AddWeighted(activations, weights, map);
    }

    /// <summary>map += scale · Σ_k weights[k] · A_k.</summary>
    public static void AddWeighted(ReadOnlySpan<float> activations, ReadOnlySpan<float> weights, Span<float> map, float scale = 1f)
    {
        var pixels = map.Length;
        for (var k = 0; k < weights.Length; k++)
        {
            var w = scale * weights[k];
            if (w == 0) continue;
            var a = activations.Slice(k * pixels, pixels);
            for (var p = 0; p < pixels; p++) map[p] += w * a[p];
        }
    }
}
