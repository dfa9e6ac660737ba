using Lantern.Gradients.Graph;
using Onnx;

namespace Lantern.Gradients.Rules;

/// <summary>Ops that only move values: the gradient moves back the same way.</summary>
internal sealed class PassThroughRule(string opType) : IBackwardRule
{
    public string OpType => opType;

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is { } dY) context.Accumulate(node.Input[0], dY);
    }
}

/// <summary>Reshape, Flatten, Squeeze, Unsqueeze: dX = Reshape(dY, Shape(X)).</summary>
internal sealed class ReshapeLikeRule(string opType) : IBackwardRule
{
    public string OpType => opType;

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is { } dY) context.Accumulate(node.Input[0], context.ReshapeLike(dY, node.Input[0]));
    }
}

internal sealed class TransposeRule : IBackwardRule
{
    public string OpType => "Transpose";

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is not { } dY) return;
        var rank = context.RankOf(node.Input[0]);
        var perm = node.GetInts("perm") ?? Enumerable.Range(0, rank).Reverse().Select(i => (long)i).ToArray();
        var inverse = new long[rank];
        for (var i = 0; i < rank; i++) inverse[perm[i]] = i;
        context.Accumulate(node.Input[0], context.Node("Transpose", [dY], Attributes.Ints("perm", inverse)));
    }
}

/// <summary>Expand: the gradient is summed over the broadcast axes.</summary>
internal sealed class ExpandRule : IBackwardRule
{
    public string OpType => "Expand";

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is { } dY)
            context.Accumulate(node.Input[0], context.ReduceToShapeOf(dY, context.ShapeOf(node.Output[0]), node.Input[0]));
    }
}

/// <summary>Concat: dY is split back along the axis with the inputs' (per-example, static) sizes.</summary>
internal sealed class ConcatRule : IBackwardRule
{
    public string OpType => "Concat";

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is not { } dY) return;
        var rank = context.RankOf(node.Output[0]);
        var axis = BackwardContext.NormaliseAxis(node.GetInt("axis", 0), rank);
        if (axis == 0) throw new UnsupportedModelException($"Concat (node '{node.Describe()}') joins along the batch axis, which Lantern cannot differentiate");
        var inputs = node.Input.Where(i => i.Length > 0).ToList();
        var sizes = inputs.Select(i => context.ShapeOf(i)[axis]).ToArray();
        var parts = context.Node("Split", [dY, context.Ints(sizes)], inputs.Count, Attributes.Int("axis", axis));
        for (var i = 0; i < inputs.Count; i++) context.Accumulate(inputs[i], parts[i]);
    }
}

/// <summary>Split: the outputs' gradients (zeros where none flowed) are concatenated back.</summary>
internal sealed class SplitRule : IBackwardRule
{
    public string OpType => "Split";

    public void Emit(BackwardContext context, NodeProto node)
    {
        var rank = context.RankOf(node.Input[0]);
        var axis = BackwardContext.NormaliseAxis(node.GetInt("axis", 0), rank);
        if (axis == 0) throw new UnsupportedModelException($"Split (node '{node.Describe()}') splits the batch axis, which Lantern cannot differentiate");
        var parts = node.Output.Select(o => context.Gradient(o) ?? context.ZerosLike(o)).ToList();
        context.Accumulate(node.Input[0], context.Node("Concat", parts, Attributes.Int("axis", axis)));
    }
}

/// <summary>
/// Slice with any steps: dY is put back where the slice read it, zeros elsewhere (starts, ends, axes and steps static).
/// Per axis: a negative step is undone by reversing dY; a step s &gt; 1 by interleaving s − 1 zeros after each element
/// (Unsqueeze, Pad the new axis, Reshape it away); then one Pad (negative where it crops) places the n·s run at the
/// lowest index read.
/// </summary>
internal sealed class SliceRule : IBackwardRule
{
    public string OpType => "Slice";

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is not { } dY) return;
        var input = context.ShapeOf(node.Input[0]);
        var output = context.ShapeOf(node.Output[0]);
        var rank = input.Length;
        long[] Constant(int position, string what) =>
            context.Forward.ConstantInts(node.Input[position])
            ?? throw new UnsupportedModelException($"Slice (node '{node.Describe()}') has computed {what}, which Lantern cannot differentiate");
        var starts = Constant(1, "starts");
        var axes = node.Input.Count > 3 && node.Input[3].Length > 0 ? Constant(3, "axes") : Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
        var steps = node.Input.Count > 4 && node.Input[4].Length > 0 ? Constant(4, "steps") : starts.Select(_ => 1L).ToArray();
        var pads = new long[2 * rank];
        var shape = (long[])output.Clone();
        var dX = dY;
        for (var i = 0; i < axes.Length; i++)
        {
            var axis = (int)BackwardContext.NormaliseAxis(axes[i], rank);
            var (dim, count, step) = (input[axis], output[axis], steps[i]);
            if (axis == 0)
            {
                if (count != dim || step != 1)
                    throw new UnsupportedModelException($"Slice (node '{node.Describe()}') slices the batch axis, which Lantern cannot differentiate");
                continue;
            }
            if (step == 0) throw new UnsupportedModelException($"Slice (node '{node.Describe()}') has step 0");
            // ONNX clamps a start to [0, dim] for positive steps and to [0, dim − 1] for negative ones.
            var start = starts[i] < 0 ? starts[i] + dim : starts[i];
            start = step > 0 ? Math.Clamp(start, 0, dim) : Math.Clamp(start, 0, dim - 1);
            var lowest = step > 0 ? start : start + (count - 1) * step;
            if (step < 0)
                dX = context.Node("Slice", [dX, context.Ints(-1), context.Ints(long.MinValue), context.Ints(axis), context.Ints(-1)]);
            var stride = Math.Abs(step);
            if (stride > 1 && count > 0)
            {
                var spread = context.Node("Unsqueeze", [dX, context.Ints(axis + 1)]);
                var gaps = new long[2 * (rank + 1)];
                gaps[rank + 1 + axis + 1] = stride - 1;
                spread = context.Node("Pad", [spread, context.Ints(gaps)]);
                shape[axis] = count * stride;
                dX = context.Node("Reshape", [spread, context.Ints([0, .. shape[1..]])]);
            }
            pads[axis] = lowest;
            pads[rank + axis] = dim - lowest - shape[axis];
        }
        context.Accumulate(node.Input[0], pads.All(p => p == 0) ? dX : context.Node("Pad", [dX, context.Ints(pads)]));
    }
}

/// <summary>
/// Pad. Constant mode: dX is the part of dY that covers X; negative pads (crops) pad the gradient back with zeros.
/// Edge and reflect modes copy X's border into the pad, so the pad's gradient folds back onto X, one axis at a time
/// (the modes are per-axis index maps, so they compose): edge sums each side's pad into the first / last element;
/// reflect (mirror without repeating the edge) sends pad element j from the border to X[j] / X[d − 1 − j], j ≥ 1.
/// </summary>
internal sealed class PadRule : IBackwardRule
{
    public string OpType => "Pad";

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is not { } dY) return;
        var mode = node.GetString("mode") ?? "constant";
        if (mode is not ("constant" or "edge" or "reflect"))
            throw new UnsupportedModelException($"Pad (node '{node.Describe()}') uses mode '{mode}'; Lantern differentiates constant, edge and reflect padding");
        var input = context.ShapeOf(node.Input[0]);
        var rank = input.Length;
        var pads = context.Forward.ConstantInts(node.Input[1])
            ?? throw new UnsupportedModelException($"Pad (node '{node.Describe()}') has computed pads, which Lantern cannot differentiate");
        var axes = node.Input.Count > 3 && node.Input[3].Length > 0
            ? (context.Forward.ConstantInts(node.Input[3]) ?? throw new UnsupportedModelException($"Pad (node '{node.Describe()}') has computed axes"))
                .Select(a => BackwardContext.NormaliseAxis(a, rank)).ToArray()
            : Enumerable.Range(0, rank).Select(i => (long)i).ToArray();
        var begin = new long[rank];
        var end = new long[rank];
        for (var i = 0; i < axes.Length; i++)
        {
            begin[axes[i]] = pads[i];
            end[axes[i]] = pads[axes.Length + i];
        }
        if (begin[0] != 0 || end[0] != 0)
            throw new UnsupportedModelException($"Pad (node '{node.Describe()}') pads the batch axis, which Lantern cannot differentiate");
        context.Accumulate(node.Input[0], mode == "constant" ? Constant(context, dY, begin, end) : Folded(context, node, mode, dY, input, begin, end));
    }

    private static string Constant(BackwardContext context, string dY, long[] begin, long[] end)
    {
        var rank = begin.Length;
        var sliceAxes = Enumerable.Range(1, rank - 1).Select(i => (long)i).ToArray();
        var starts = sliceAxes.Select(a => Math.Max(begin[a], 0)).ToArray();
        var ends = sliceAxes.Select(a => end[a] > 0 ? -end[a] : long.MaxValue).ToArray();
        var dX = context.Node("Slice", [dY, context.Ints(starts), context.Ints(ends), context.Ints(sliceAxes)]);
        if (begin.Any(p => p < 0) || end.Any(p => p < 0))
            dX = context.Node("Pad", [dX, context.Ints([.. begin.Select(p => Math.Max(-p, 0)), .. end.Select(p => Math.Max(-p, 0))])]);
        return dX;
    }

    private static string Folded(BackwardContext context, NodeProto node, string mode, string dY, long[] input, long[] begin, long[] end)
    {
        var rank = input.Length;
        var dX = dY;
        for (var axis = 1; axis < rank; axis++)
        {
            var (b, e, d) = (begin[axis], end[axis], input[axis]);
            if (b == 0 && e == 0) continue;
            if (b < 0 || e < 0)
                throw new UnsupportedModelException($"Pad (node '{node.Describe()}') crops in mode '{mode}', which Lantern cannot differentiate");
            if (mode == "reflect" && Math.Max(b, e) > d - 1)
                throw new UnsupportedModelException($"Pad (node '{node.Describe()}') reflects {Math.Max(b, e)} elements of an axis of {d}; Lantern differentiates reflect pads up to the size − 1");
            string Part(long start, long stop, long step) =>
                context.Node("Slice", [dX, context.Ints(start), context.Ints(stop), context.Ints(axis), context.Ints(step)]);
            string Placed(string part, long before, long after)
            {
                var placement = new long[2 * rank];
                placement[axis] = before;
                placement[rank + axis] = after;
                return context.Node("Pad", [part, context.Ints(placement)]);
            }
            var parts = new List<string> { Part(b, b + d, 1) };
            if (mode == "edge")
            {
                string Summed(string part) => context.Node("ReduceSum", [part, context.Ints(axis)], Attributes.Int("keepdims", 1));
                if (b > 0) parts.Add(Placed(Summed(Part(0, b, 1)), 0, d - 1));
                if (e > 0) parts.Add(Placed(Summed(Part(b + d, b + d + e, 1)), d - 1, 0));
            }
            else
            {
                // Reversed, the begin pad reads X[1..b] and the end pad X[d−1−e .. d−2].
                if (b > 0) parts.Add(Placed(Part(b - 1, long.MinValue, -1), 1, d - 1 - b));
                if (e > 0) parts.Add(Placed(Part(b + d + e - 1, b + d - 1, -1), d - 1 - e, 1));
            }
            dX = context.Node("Sum", parts);
        }
        return dX;
    }
}

/// <summary>
/// Gather with constant indices along a non-batch axis: dY is scattered back, with addition so that an index read
/// several times collects every copy's gradient, into zeros of X's shape. dY is reshaped to X's rank with the indices'
/// axes flattened into one (a scalar index, which drops the axis, gives length 1), and the indices, made non-negative,
/// are broadcast to that shape as ScatterElements wants.
/// </summary>
internal sealed class GatherRule : IBackwardRule
{
    public string OpType => "Gather";

    public void Emit(BackwardContext context, NodeProto node)
    {
        if (context.Gradient(node.Output[0]) is not { } dY) return;
        var x = node.Input[0];
        var shape = context.ShapeOf(x);
        var rank = shape.Length;
        var axis = (int)BackwardContext.NormaliseAxis(node.GetInt("axis", 0), rank);
        if (axis == 0) throw new UnsupportedModelException($"Gather (node '{node.Describe()}') gathers along the batch axis, which Lantern cannot differentiate");
        var indices = context.Forward.ConstantInts(node.Input[1])
            ?? throw new UnsupportedModelException($"Gather (node '{node.Describe()}') has computed indices, which Lantern cannot differentiate");
        var normalised = indices.Select(i => i < 0 ? i + shape[axis] : i).ToArray();
        var count = normalised.Length;
        var flat = context.Node("Reshape", [dY, context.Ints([0, .. shape[1..axis], count, .. shape[(axis + 1)..]])]);
        long[] along = [.. Enumerable.Repeat(1L, axis), count, .. Enumerable.Repeat(1L, rank - axis - 1)];
        var index = context.Node("Expand", [context.Node("Reshape", [context.Ints(normalised), context.Ints(along)]), context.DynamicShape(flat)]);
        context.Accumulate(x, context.Node("ScatterElements", [context.ZerosLike(x), index, flat],
            Attributes.Int("axis", axis), Attributes.String("reduction", "add")));
    }
}
