using Lantern.Contracts.Messages;
using Lantern.Gradients;
using Lantern.Methods;
using Lantern.Methods.Gradients;
using Microsoft.ML.OnnxRuntime;

namespace Lantern.Worker.Inference;

/// <summary>
/// The worker's gradient path: gradient-model sessions (cached by content hash within the session budget), each job's
/// prepared evaluation, and the evaluation of a work item into its block: the item's scores (evaluations × targets), then
/// one folded map per target. Every evaluation runs once per target, each row with its target's one-hot seed.
/// </summary>
public sealed class GradientJobs(SessionOptions sessionOptions, int maxBatch, long sessionBudget, int jobCacheSize,
    Func<string, string, CancellationToken, Task<byte[]>> fetch)
{
    private readonly LruCache<string, GradientSession> _sessions = new(sessionBudget, session => session.EstimatedBytes);
    private readonly LruCache<string, Prepared> _jobs = new(jobCacheSize);

    /// <param name="Black">The preprocessed tensors of an all-black and (deep dream only) an all-white image.</param>
    private sealed record Prepared(JobSpec Spec, GradientSession Session, IGradientEvaluation Evaluation, int[] Targets, int MapLength,
        float[]? Black = null, float[]? White = null);

    /// <returns>Evaluations run.</returns>
    public async Task<(float[] Block, int Evaluations)> EvaluateAsync(WorkSpec work, PreparedJob job, WorkItem item,
        RunOptions runOptions, CancellationToken cancellationToken)
    {
        var prepared = await PrepareAsync(work, job, cancellationToken);
        if (prepared.Evaluation is DeepDreamMethod.Ascent ascent)
            return (Dream(prepared, ascent, item, runOptions, cancellationToken), ascent.Method.Steps);
        return (Evaluate(prepared, item.First, item.Count, runOptions), item.Count * prepared.Targets.Length);
    }

    /// <summary>
    /// A deep dream's work item: the whole ascent of target slot item.First, then one more run for the final image's
    /// score. The block is the item's scores (that slot's final score, the other slots 0) and the one target's result.
    /// </summary>
    private static float[] Dream(Prepared job, DeepDreamMethod.Ascent ascent, WorkItem item, RunOptions runOptions,
        CancellationToken cancellationToken)
    {
        var (session, method) = (job.Session, ascent.Method);
        var slot = (int)item.First;
        if (item.Count != 1 || slot >= job.Targets.Length)
            throw new InvalidOperationException($"a dream's work item is one target, not {item.Count} from {item.First}");
        var target = job.Targets[slot];
        void WriteSeed(Span<float> seed) => method.WriteSeed(target, seed);
        var dream = DeepDreamSession.Run(session, WriteSeed, ascent.Start, job.Black!, job.White!, job.Spec.InputShape,
            method.Options, runOptions, cancellationToken);
        float[] curve = [.. dream.Scores, DeepDreamSession.Score(session, WriteSeed, dream.Input, runOptions)];
        var block = new float[job.Targets.Length + method.MapLength];
        block[slot] = curve[^1];
        method.WriteItemResult(dream.Input, job.Black, job.White, curve, block.AsSpan(job.Targets.Length));
        return block;
    }

    private static float[] Evaluate(Prepared job, long first, int count, RunOptions? runOptions = null)
    {
        var (session, targets) = (job.Session, job.Targets);
        var block = new float[count * targets.Length + targets.Length * job.MapLength];
        var maps = block.AsSpan(count * targets.Length);
        var rows = count * targets.Length;
        var step = RowsPerRun(session, job.Spec);
        for (var done = 0; done < rows;)
        {
            var batch = Math.Min(step, rows - done);
            FillRows(session, job, first, done, batch);
            session.Run(batch, runOptions);
            for (var b = 0; b < batch; b++)
            {
                var (evaluation, slot) = Math.DivRem(done + b, targets.Length);
                block[done + b] = session.Scores[b];
                job.Evaluation.Accumulate(Row(session, job, b, first + evaluation, slot), maps.Slice(slot * job.MapLength, job.MapLength));
            }
            done += batch;
        }
        return block;
    }

    /// <summary>
    /// Rows per run of the gradient model: the job's batch (fixed when it was planned, the same on every worker, and the
    /// session was loaded for it), or the session's largest for a job planned before batches were sized; 1 for a
    /// gradient model that only runs one row at a time, on every worker alike. A row is one evaluation for one target.
    /// </summary>
    private static int RowsPerRun(GradientSession session, JobSpec spec) =>
        spec.EvalBatch > 0 ? Math.Min(spec.EvalBatch, session.MaxBatch) : session.MaxBatch;

    /// <summary>Rows are (evaluation, target) pairs in that order; an evaluation's input is written once and copied per target.</summary>
    private static void FillRows(GradientSession session, Prepared job, long first, int firstRow, int batch)
    {
        var input = session.InputBuffer(batch);
        var seeds = session.SeedBuffer(batch);
        var length = session.InputLength;
        for (var b = 0; b < batch; b++)
        {
            var (evaluation, slot) = Math.DivRem(firstRow + b, job.Targets.Length);
            var row = input.Slice(b * length, length);
            if (slot == 0 || b == 0) job.Evaluation.Write(first + evaluation, row);
            else input.Slice((b - 1) * length, length).CopyTo(row);
            job.Spec.WriteSeed(job.Targets[slot], seeds.Slice(b * session.SeedLength, session.SeedLength), job.Spec.GradientIo.SeedShape);
        }
    }

    private static GradientRow Row(GradientSession session, Prepared job, int b, long index, int slot)
    {
        var layerLength = session.LayerLength;
        return new GradientRow
        {
            Index = index,
            TargetSlot = slot,
            TargetClass = job.Spec.ClassOf(job.Targets[slot]),
            Score = session.Scores[b],
            Input = session.InputBuffer(b + 1).Slice(b * session.InputLength, session.InputLength),
            InputGradient = Slice(session.InputGradients, b, session.InputLength),
            LayerValues = Slice(session.LayerValues, b, layerLength),
            LayerGradient = Slice(session.LayerGradients, b, layerLength),
        };
    }

    private static ReadOnlySpan<float> Slice(float[] values, int row, int length) =>
        values.Length >= (row + 1) * length && length > 0 ? values.AsSpan(row * length, length) : [];

    private async Task<Prepared> PrepareAsync(WorkSpec work, PreparedJob job, CancellationToken cancellationToken)
    {
        var key = $"{work.JobId}/{string.Join(',', work.Targets)}";
        if (_jobs.TryGet(key, out var cached)) return cached;
        var spec = work.Spec;
        var session = await SessionAsync(spec, cancellationToken);
        var method = (IGradientMethod)MethodCatalog.For(spec);
        var targets = work.Targets.ToArray();
        foreach (var target in targets)
        {
            if (target >= session.SeedLength)
                throw new InvalidOperationException($"target {target} is outside the model's {session.SeedLength} outputs");
        }

        var black = new float[job.BaseTensor.Length];
        job.Preprocessor.Write(new float[job.Image.Pixels.Length], black);
        float[]? layerValues = null;
        float[]? inputScores = null;
        if (method.NeedsInputLayerValues)
        {
            // The unperturbed input once per target: the layer's values (the same in every row) and each target's score.
            var probe = new Prepared(spec, session, new Unperturbed(job.BaseTensor), targets, 0);
            inputScores = Evaluate(probe, 0, 1);
            layerValues = session.LayerValues.AsSpan(0, session.LayerLength).ToArray();
        }
        var head = method.NeedsCamHead
            ? CamHead.Find(await fetch(spec.Gradient.TwinModelSha256.Length > 0 ? spec.Gradient.TwinModelSha256 : spec.ModelSha256,
                "model", cancellationToken), spec.Gradient.Layer)
            : null;
        float[]? white = null;
        if (method is DeepDreamMethod)
        {
            white = new float[job.BaseTensor.Length];
            job.Preprocessor.Write(Enumerable.Repeat(255f, job.Image.Pixels.Length).ToArray(), white);
        }
        var evaluation = method.Prepare(new GradientJobInputs(job.BaseTensor, black, targets, layerValues, inputScores, head));
        var prepared = new Prepared(spec, session, evaluation, targets, method.MapLength, black, white);
        _jobs.Add(key, prepared);
        return prepared;
    }

    /// <summary>
    /// A session that runs the job's batch: one per gradient model and batch bound (a job planned with a batch above
    /// --max-batch gets its own, so that the prepared jobs still holding the smaller one keep running theirs).
    /// </summary>
    private async Task<GradientSession> SessionAsync(JobSpec spec, CancellationToken cancellationToken)
    {
        var rows = Math.Max(maxBatch, spec.EvalBatch);
        var key = rows == maxBatch ? spec.GradientModelSha256 : $"{spec.GradientModelSha256}@{rows}";
        if (_sessions.TryGet(key, out var cached)) return cached;
        var bytes = await fetch(spec.GradientModelSha256, "gradient model", cancellationToken);
        var session = new GradientSession(bytes, spec.GradientIo, [.. spec.InputShape], sessionOptions, rows);
        _sessions.Add(key, session);
        return session;
    }

    public void Clear()
    {
        _sessions.Clear();
        _jobs.Clear();
    }

    /// <summary>The unperturbed input for every evaluation; folds nothing.</summary>
    private sealed class Unperturbed(float[] input) : IGradientEvaluation
    {
        public void Write(long index, Span<float> tensor) => input.CopyTo(tensor);
        public void Accumulate(in GradientRow row, Span<float> map) { }
    }
}
