using Lantern.Worker.Inference;

namespace Lantern.Cluster.Tests.Worker;

/// <summary>Work given to an InferenceThread (each evaluator has one) runs on that thread, awaits included, never on the pool.</summary>
public sealed class InferenceThreadTests
{
    [Fact]
    public async Task Work_and_the_continuations_of_its_awaits_run_on_the_named_thread()
    {
        using var thread = new InferenceThread("infer-test");
        var seen = await thread.RunAsync(async () =>
        {
            var before = (Thread.CurrentThread.Name, Thread.CurrentThread.IsThreadPoolThread);
            await Task.Delay(20); // completes on a timer thread; the rest of this method must come back
            await Task.Yield();
            var after = (Thread.CurrentThread.Name, Thread.CurrentThread.IsThreadPoolThread);
            return (before, after);
        });

        Assert.Equal(("infer-test", false), seen.before);
        Assert.Equal(("infer-test", false), seen.after);
    }

    [Fact]
    public async Task Work_queued_together_runs_one_at_a_time_in_order()
    {
        using var thread = new InferenceThread("infer-test");
        var running = 0;
        var mostAtOnce = 0;
        var order = new List<int>();
        var threads = new HashSet<int>();
        var tasks = Enumerable.Range(0, 8).Select(i => thread.RunAsync(() =>
        {
            mostAtOnce = Math.Max(mostAtOnce, Interlocked.Increment(ref running));
            lock (threads) threads.Add(Environment.CurrentManagedThreadId); // one thread runs one thing at a time
            order.Add(i);
            Interlocked.Decrement(ref running);
            return Task.FromResult(i);
        })).ToList();

        Assert.Equal(Enumerable.Range(0, 8), await Task.WhenAll(tasks));
        Assert.Equal(1, mostAtOnce);
        Assert.Single(threads);
        Assert.Equal(Enumerable.Range(0, 8), order);
    }

    [Fact]
    public async Task Work_awaiting_when_the_thread_is_disposed_still_finishes()
    {
        var thread = new InferenceThread("infer-test");
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var work = thread.RunAsync(async () =>
        {
            started.SetResult();
            await release.Task;
            return 42;
        });
        await started.Task;
        thread.Dispose();
        release.SetResult();

        Assert.Equal(42, await work.WaitAsync(TimeSpan.FromSeconds(10)));
    }
}
