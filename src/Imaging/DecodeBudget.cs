using SixLabors.ImageSharp;

namespace Lantern.Imaging;

/// <summary>
/// Bytes of decoded pixels a process may hold at once, shared by every upload and job that decodes an image. A decode
/// takes its share before the first pixel is decoded and gives it back when done; a decode that would pass the budget
/// waits for others to give theirs back. Without it three 97 KB PNGs of 9990x9990 pinned 5.4 GB at once.
/// </summary>
public sealed class DecodeBudget(long totalBytes)
{
    /// <summary>An Rgb24 frame while decoding (3 bytes), its auto-oriented copy (3) and the float image (12), per pixel.</summary>
    public const long BytesPerPixel = 18;

    private readonly object _gate = new();
    private long _used;
    private TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public long TotalBytes => totalBytes;

    /// <summary>Bytes currently taken (0 once every decode has finished: the budget is freed, not leaked).</summary>
    public long UsedBytes
    {
        get { lock (_gate) return _used; }
    }

    /// <summary>Takes the share of a width × height decode, waiting up to <paramref name="wait"/> for room.</summary>
    /// <exception cref="DecodeBudgetExhaustedException">Larger than the whole budget, or no room within the wait.</exception>
    public async Task<IDisposable> AcquireAsync(int width, int height, TimeSpan wait, CancellationToken cancellationToken)
    {
        var bytes = checked((long)width * height * BytesPerPixel);
        if (bytes > totalBytes)
            throw new DecodeBudgetExhaustedException(
                $"decoding a {width}x{height} image needs about {bytes >> 20} MiB, more than this node's {totalBytes >> 20} MiB decode budget");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(wait);
        while (true)
        {
            Task released;
            lock (_gate)
            {
                if (_used + bytes <= totalBytes)
                {
                    _used += bytes;
                    return new Lease(this, bytes);
                }
                released = _released.Task;
            }
            try
            {
                await released.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new DecodeBudgetExhaustedException(
                    $"other uploads and jobs are decoding images ({UsedBytes >> 20} of {totalBytes >> 20} MiB); try again shortly");
            }
        }
    }

    private void Release(long bytes)
    {
        TaskCompletionSource released;
        lock (_gate)
        {
            _used -= bytes;
            released = _released;
            _released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        released.TrySetResult();
        // ImageSharp keeps pooled buffers for reuse; a large decode's would otherwise stay pinned after it ends.
        if (bytes >= 64L << 20) Configuration.Default.MemoryAllocator.ReleaseRetainedResources();
    }

    private sealed class Lease(DecodeBudget budget, long bytes) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) budget.Release(bytes);
        }
    }
}

public sealed class DecodeBudgetExhaustedException(string message) : Exception(message);
