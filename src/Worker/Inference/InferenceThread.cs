using System.Collections.Concurrent;

namespace Lantern.Worker.Inference;

/// <summary>
/// One dedicated thread that runs an evaluator's work: its model runs, and the continuations of its awaits (which
/// resume on the scheduler they started on). A work item holds its thread inside ONNX Runtime for milliseconds to
/// minutes; on the thread pool that was a pool thread per worker taken from the actor system, the journal and gRPC.
/// Here each worker has its own, named, so that <c>top -H</c> and the bench can tell inference from the rest of a node.
/// </summary>
public sealed class InferenceThread : TaskScheduler, IDisposable
{
    /// <summary>How a node's inference threads are named (then -0, -1, … per worker); Linux keeps 15 characters.</summary>
    public const string NamePrefix = "lantern-infer";

    private readonly BlockingCollection<Task> _queue = new();
    private readonly Thread _thread;

    public InferenceThread(string name)
    {
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>Runs <paramref name="work"/> on this thread; its awaits resume here too.</summary>
    public Task<T> RunAsync<T>(Func<Task<T>> work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.DenyChildAttach, this).Unwrap();

    private void Run()
    {
        foreach (var task in _queue.GetConsumingEnumerable()) TryExecuteTask(task);
    }

    protected override void QueueTask(Task task)
    {
        try
        {
            _queue.Add(task);
        }
        catch (InvalidOperationException)
        {
            // Disposed: a late continuation still runs (on the pool), so that nothing awaiting it hangs.
            ThreadPool.UnsafeQueueUserWorkItem(_ => TryExecuteTask(task), null);
        }
    }

    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) =>
        Thread.CurrentThread == _thread && TryExecuteTask(task);

    protected override IEnumerable<Task> GetScheduledTasks() => _queue.ToArray();

    public override int MaximumConcurrencyLevel => 1;

    /// <summary>Lets queued work finish, then the thread ends (not waited for: it may be this thread that disposes).</summary>
    public void Dispose() => _queue.CompleteAdding();
}
