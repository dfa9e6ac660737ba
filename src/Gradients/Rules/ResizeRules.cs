using Lantern.Gradients.Graph;
using Onnx;

namespace Lantern.Gradients.Rules;

/// <summary>
/// Resize in nearest, linear or cubic mode (Upsample and Resize-10 arrive upgraded to it). With the probed static sizes the op
/// is separable over the last two axes: Y = A_h · X · A_wᵀ per (n, c), with A_h [H_out, H_in] and A_w [W_out, W_in]
/// constant interpolation matrices (see <see cref="ResizeInterpolation"/>). So dX = A_hᵀ · dY · A_w: two MatMuls with
/// constants, which broadcast over the leading axes.
/// </summary>
internal sealed class ResizeRule : IBackwardRule
{
    public string OpType => "Resize";

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is not { } dY) return;
        var x = node.Input[0];
        var input = context.ShapeOf(x);
        var output = context.ShapeOf(node.Output[0]);
        var matrices = ResizeInterpolation.AxisMatrices(node, context.Forward, input, output);
        var rank = input.Length;
        var dX = dY;
        // Last axis first: dY [.., H_out, W_out] · A_w [W_out, W_in].
        if (matrices[rank - 1] is { } width) dX = context.Node("MatMul", [dX, context.Floats([output[rank - 1], input[rank - 1]], width)]);
        if (rank >= 2 && matrices[rank - 2] is { } height)
        {
            var (rows, columns) = ((int)output[rank - 2], (int)input[rank - 2]);
            var transposed = new float[height.Length];
            for (var o = 0; o < rows; o++)
                for (var i = 0; i < columns; i++) transposed[i * rows + o] = height[o * columns + i];
            dX = context.Node("MatMul", [context.Floats([columns, rows], transposed), dX]);
        }
        context.Accumulate(x, dX);
    }
}

/// <summary>
/// The interpolation matrix of each resized axis, computed as ONNX Runtime's CPU kernel (upsample.cc, upsamplebase.h)
/// computes its coordinates, in float32: the original coordinate from the coordinate_transformation_mode, then for
/// nearest one input index per output (nearest_mode, clamped), for linear two weights (coordinate clamped to
/// [0, in − 1], weight 1 − fraction on the floor, 0.5 + 0.5 when both neighbours clamp to one index), for cubic four
/// Keys weights (cubic_coeff_a) on floor − 1 … floor + 2, edge indices repeated, or with exclude_outside dropped and the
/// rest renormalised. An axis with scale 1 is copied unchanged, as the kernel does.
/// </summary>
internal static class ResizeInterpolation
{
    /// <summary>Row-major [out, in] matrices per axis; null where the axis is copied unchanged.</summary>
    public static float[]?[] AxisMatrices(NodeProto node, GraphIndex graph, long[] input, long[] output)
    {
        var rank = input.Length;
        var mode = node.GetString("mode") ?? "nearest";
        if (mode is not ("nearest" or "linear" or "cubic"))
            throw new UnsupportedModelException($"Resize (node '{node.Describe()}') uses mode '{mode}'; Lantern differentiates nearest, linear and cubic resizing");
        var transform = node.GetString("coordinate_transformation_mode") ?? "half_pixel";
        if (transform == "tf_crop_and_resize")
            throw new UnsupportedModelException($"Resize (node '{node.Describe()}') uses tf_crop_and_resize, which Lantern cannot differentiate");
        if (node.GetInt("antialias", 0) != 0)
            throw new UnsupportedModelException($"Resize (node '{node.Describe()}') uses antialias, which Lantern cannot differentiate");
        if ((node.GetString("keep_aspect_ratio_policy") ?? "stretch") != "stretch")
            throw new UnsupportedModelException($"Resize (node '{node.Describe()}') uses a keep_aspect_ratio_policy, which Lantern cannot differentiate");
        var nearestMode = node.GetString("nearest_mode") ?? "round_prefer_floor";
        var scales = Scales(node, graph, input, output);
        var matrices = new float[]?[rank];
        for (var axis = 0; axis < rank; axis++)
        {
            if (scales[axis] == 1f && input[axis] == output[axis]) continue;
            if (axis == 0 || axis < rank - 2)
                throw new UnsupportedModelException(
                    $"Resize (node '{node.Describe()}') resizes axis {axis} of {rank}; Lantern differentiates resizing of the last two (spatial) axes only");
            matrices[axis] = mode switch
            {
                "nearest" => Nearest(transform, nearestMode, input[axis], output[axis], scales[axis]),
                "linear" => Linear(transform, input[axis], output[axis], scales[axis]),
                _ => Cubic(transform, input[axis], output[axis], scales[axis], node.GetFloat("cubic_coeff_a", -0.75f), node.GetInt("exclude_outside", 0) != 0),
            };
        }
        return matrices;
    }

    /// <summary>The scale of each axis: the scales input where given, else output / input size (as ONNX Runtime divides, in float).</summary>
    private static float[] Scales(NodeProto node, GraphIndex graph, long[] input, long[] output)
    {
        var rank = input.Length;
        var axes = node.GetInts("axes")?.Select(a => (int)BackwardContext.NormaliseAxis(a, rank)).ToArray() ?? Enumerable.Range(0, rank).ToArray();
        var scales = Enumerable.Repeat(1f, rank).ToArray();
        var scalesName = node.Input.Count > 2 ? node.Input[2] : "";
        var hasSizes = node.Input.Count > 3 && node.Input[3].Length > 0;
        if (scalesName.Length > 0)
        {
            var given = graph.ConstantFloats(scalesName);
            if (given is null && !hasSizes)
                throw new UnsupportedModelException($"Resize (node '{node.Describe()}') has computed scales, which Lantern cannot differentiate");
            if (given is { Length: > 0 })
            {
                for (var i = 0; i < given.Length; i++) scales[axes[i]] = given[i];
                return scales;
            }
        }
        for (var axis = 0; axis < rank; axis++) scales[axis] = input[axis] == 0 ? 1f : (float)output[axis] / input[axis];
        return scales;
    }

    /// <summary>upsamplebase.h GetOriginalCoordinateFromResizedCoordinate, float32 as there.</summary>
    private static float Original(string transform, float resized, float scale, float lengthResized, float lengthOriginal) => transform switch
    {
        "asymmetric" => resized / scale,
        "pytorch_half_pixel" => lengthResized > 1 ? (resized + 0.5f) / scale - 0.5f : 0f,
        "tf_half_pixel_for_nn" => (resized + 0.5f) / scale,
        "align_corners" => lengthResized == 1 ? 0f : resized * (lengthOriginal - 1) / (lengthResized - 1),
        "half_pixel_symmetric" => HalfPixelSymmetric(resized, scale, lengthResized, lengthOriginal),
        "half_pixel" => (resized + 0.5f) / scale - 0.5f,
        _ => throw new UnsupportedModelException($"Resize uses coordinate_transformation_mode '{transform}', which Lantern does not know"),
    };

    private static float HalfPixelSymmetric(float resized, float scale, float lengthResized, float lengthOriginal)
    {
        var outputWidth = scale * lengthOriginal;
        var adjustment = lengthResized / outputWidth;
        var center = lengthOriginal / 2;
        var offset = center * (1 - adjustment);
        return (float)(offset + (resized + 0.5) / scale - 0.5); // the kernel mixes in double here
    }

    private static long NearestIndex(string nearestMode, float original) => nearestMode switch
    {
        "round_prefer_ceil" => (long)MathF.Round(original, MidpointRounding.AwayFromZero),
        "floor" => (long)MathF.Floor(original),
        "ceil" => (long)MathF.Ceiling(original),
        "round_prefer_floor" => original == (long)original + 0.5f ? (long)MathF.Floor(original) : (long)MathF.Round(original, MidpointRounding.AwayFromZero),
        _ => throw new UnsupportedModelException($"Resize uses nearest_mode '{nearestMode}', which Lantern does not know"),
    };

    private static float[] Nearest(string transform, string nearestMode, long input, long output, float scale)
    {
        var matrix = new float[output * input];
        for (var o = 0; o < output; o++)
        {
            var index = NearestIndex(nearestMode, Original(transform, o, scale, output, input));
            matrix[o * input + Math.Clamp(index, 0, input - 1)] = 1f;
        }
        return matrix;
    }

    private static float[] Linear(string transform, long input, long output, float scale)
    {
        var matrix = new float[output * input];
        for (var o = 0; o < output; o++)
        {
            var original = Math.Max(0f, Math.Min(Original(transform, o, scale, output, input), input - 1));
            var low = Math.Min((long)original, input - 1);
            var high = Math.Min(low + 1, input - 1);
            if (low == high)
            {
                matrix[o * input + low] = 1f;
                continue;
            }
            matrix[o * input + low] = MathF.Abs(original - high);
            matrix[o * input + high] = MathF.Abs(original - low);
        }
        return matrix;
    }

    private static float[] Cubic(string transform, long input, long output, float scale, float a, bool excludeOutside)
    {
        var matrix = new float[output * input];
        for (var o = 0; o < output; o++)
        {
            var original = Original(transform, o, scale, output, input);
            var floor = (long)MathF.Floor(original);
            var coefficients = CubicCoefficients(original - floor, a);
            var sum = 1f;
            if (excludeOutside)
            {
                sum = 0f;
                for (var k = 0; k < 4; k++)
                {
                    if (floor - 1 + k < 0 || floor - 1 + k >= input) coefficients[k] = 0f;
                    sum += coefficients[k];
                }
            }
            for (var k = 0; k < 4; k++) matrix[o * input + Math.Clamp(floor - 1 + k, 0, input - 1)] += coefficients[k] / sum;
        }
        return matrix;
    }

    /// <summary>Keys' cubic convolution weights for the four samples around a fraction s (upsample.cc GetCubicCoeffs).</summary>
    private static float[] CubicCoefficients(float s, float a)
    {
        var t = MathF.Abs(s);
        return
        [
            ((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a,
            ((a + 2) * t - (a + 3)) * t * t + 1,
            ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1,
            ((a * (2 - t) - 5 * a) * (2 - t) + 8 * a) * (2 - t) - 4 * a,
        ];
    }
}
