namespace Lantern.Explainers.Imaging;

/// <summary>Bilinear resizing of a single-channel map, and mapping a model-input-sized map back onto the source image.</summary>
public static class MapResampler
{
    /// <param name="alignCorners">
    /// false: pixel centres at (i + ½)·scale, as cv2.resize and pytorch-grad-cam's upsampling of CAMs; true: the corner
    /// pixels of both grids coincide, as torch's UpsamplingBilinear2d (Score-CAM's masks).
    /// </param>
    public static float[] Resize(ReadOnlySpan<float> map, int height, int width, int toHeight, int toWidth, bool alignCorners = false)
    {
        var output = new float[toHeight * toWidth];
        Resize(map, height, width, toHeight, toWidth, alignCorners, output);
        return output;
    }

    /// <summary><see cref="Resize(ReadOnlySpan{float},int,int,int,int,bool)"/> into a caller's buffer of toHeight × toWidth.</summary>
    public static void Resize(ReadOnlySpan<float> map, int height, int width, int toHeight, int toWidth, bool alignCorners, Span<float> output)
    {
        if (map.Length != height * width) throw new ArgumentException($"map has {map.Length} values, not {height}x{width}");
        if (output.Length != toHeight * toWidth) throw new ArgumentException($"output has {output.Length} values, not {toHeight}x{toWidth}");
        for (var y = 0; y < toHeight; y++)
        {
            var sy = SourceCoordinate(y, height, toHeight, alignCorners);
            for (var x = 0; x < toWidth; x++)
                output[y * toWidth + x] = Sample(map, height, width, sy, SourceCoordinate(x, width, toWidth, alignCorners));
        }
    }

    /// <summary>
    /// The value at each source-image pixel of a map laid over the model input (inputHeight × inputWidth): bilinear at
    /// the pixel's position after the preprocessing's resize and crop; 0 for pixels the centre crop cut away.
    /// </summary>
    public static float[] InputToImage(ReadOnlySpan<float> inputMap, Preprocessing preprocessing, int imageWidth, int imageHeight)
    {
        var (inputWidth, inputHeight) = (preprocessing.Width, preprocessing.Height);
        if (inputMap.Length != inputWidth * inputHeight)
            throw new ArgumentException($"map has {inputMap.Length} values, not the model input's {inputHeight}x{inputWidth}");
        var (resizedWidth, resizedHeight, cropX, cropY) = ImagePreprocessor.Geometry(imageWidth, imageHeight, preprocessing);
        var output = new float[imageWidth * imageHeight];
        for (var y = 0; y < imageHeight; y++)
        {
            var v = (y + 0.5) * resizedHeight / imageHeight - 0.5 - cropY;
            if (v < -0.5 || v > inputHeight - 0.5) continue;
            for (var x = 0; x < imageWidth; x++)
            {
                var u = (x + 0.5) * resizedWidth / imageWidth - 0.5 - cropX;
                if (u < -0.5 || u > inputWidth - 0.5) continue;
                output[y * imageWidth + x] = Sample(inputMap, inputHeight, inputWidth, v, u);
            }
        }
        return output;
    }

    private static double SourceCoordinate(int target, int sourceSize, int targetSize, bool alignCorners) => alignCorners
        ? targetSize == 1 ? 0 : (double)target * (sourceSize - 1) / (targetSize - 1)
        : (target + 0.5) * sourceSize / targetSize - 0.5;

    /// <summary>Bilinear at (y, x) in pixel-centre coordinates, clamped to the border.</summary>
    private static float Sample(ReadOnlySpan<float> map, int height, int width, double y, double x)
    {
        y = Math.Clamp(y, 0, height - 1);
        x = Math.Clamp(x, 0, width - 1);
        var y0 = (int)y;
        var x0 = (int)x;
        var y1 = Math.Min(y0 + 1, height - 1);
        var x1 = Math.Min(x0 + 1, width - 1);
        var fy = y - y0;
        var fx = x - x0;
        var top = map[y0 * width + x0] * (1 - fx) + map[y0 * width + x1] * fx;
        var bottom = map[y1 * width + x0] * (1 - fx) + map[y1 * width + x1] * fx;
        return (float)(top * (1 - fy) + bottom * fy);
    }
}
