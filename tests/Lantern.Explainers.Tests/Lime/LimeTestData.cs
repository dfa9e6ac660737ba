using Lantern.Explainers.Lime;
using Seg = Lantern.Explainers.Segmentation.Segmentation;

namespace Lantern.Explainers.Tests.Lime;

internal static class LimeTestData
{
    /// <summary>Features as a grid of cell×cell blocks, numbered row-major.</summary>
    public static Seg Grid(int columns, int rows, int cell)
    {
        int width = columns * cell, height = rows * cell;
        var labels = new int[width * height];
        for (var y = 0; y < height; y++)
        for (var x = 0; x < width; x++)
            labels[y * width + x] = (y / cell) * columns + x / cell;
        return new Seg(width, height, labels);
    }

    /// <summary>The scores of a "model" that is linear in the on/off features: intercept + Σ w_k·on_k, one target.</summary>
    public static float[] LinearScores(LimeParameters p, double[] weights, double intercept = 0)
    {
        var scores = new float[p.Samples];
        var mask = new bool[weights.Length];
        for (var i = 0; i < p.Samples; i++)
        {
            LimeSampler.Mask(p.Seed, i, weights.Length, mask);
            double s = intercept;
            for (var k = 0; k < weights.Length; k++)
                if (mask[k]) s += weights[k];
            scores[i] = (float)s;
        }
        return scores;
    }
}
