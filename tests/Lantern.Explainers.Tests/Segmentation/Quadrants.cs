using Lantern.Explainers.Imaging;

namespace Lantern.Explainers.Tests.Segmentation;

/// <summary>An image of four flat colours meeting at (splitX, splitY); raster order of first appearance is top-left,
/// top-right, bottom-left, bottom-right, so the canonical labels are 0, 1, 2, 3 in that order.</summary>
internal static class Quadrants
{
    public static readonly float[][] Colours = [[200, 30, 30], [30, 180, 40], [40, 60, 210], [230, 220, 60]];

    public static int Quadrant(int x, int y, int splitX, int splitY) => (y < splitY ? 0 : 2) + (x < splitX ? 0 : 1);

    public static RgbImage Image(int width, int height, int splitX, int splitY)
    {
        var pixels = new float[width * height * 3];
        for (var y = 0; y < height; y++)
        for (var x = 0; x < width; x++)
            Colours[Quadrant(x, y, splitX, splitY)].CopyTo(pixels, (y * width + x) * 3);
        return new RgbImage(width, height, pixels);
    }

    public static int[] Labels(int width, int height, int splitX, int splitY)
    {
        var labels = new int[width * height];
        for (var y = 0; y < height; y++)
        for (var x = 0; x < width; x++)
            labels[y * width + x] = Quadrant(x, y, splitX, splitY);
        return labels;
    }
}
