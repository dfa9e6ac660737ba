using Grpc.Core;
using Lantern.Contracts.Api;

namespace Lantern.Cli.Client;

/// <summary>Writes an upload's chunks so that a server's early answer (a refusal mid-stream) ends the upload at once.</summary>
public static class ClientStreamUpload
{
    /// <summary>
    /// Writes the chunks until the server answers (or all are written and the stream completed) and returns the answer,
    /// to be awaited by the caller. A write pending when the answer comes is left to end with the call, never awaited:
    /// once the server has refused, a write may block for good on HTTP/2 flow control, and a write after the answer fails
    /// (CANCELLED) anyway. <paramref name="written"/> is told after each chunk the transport took.
    /// </summary>
    public static async Task<Task<ArtifactRef>> SendUntilAnsweredAsync(AsyncClientStreamingCall<UploadChunk, ArtifactRef> call,
        IEnumerable<UploadChunk> chunks, Action? written = null, CancellationToken cancellationToken = default)
    {
        var answer = call.ResponseAsync;
        foreach (var chunk in chunks)
        {
            var write = call.RequestStream.WriteAsync(chunk, cancellationToken);
            if (await Task.WhenAny(write, answer) == answer)
            {
                _ = write.ContinueWith(t => t.Exception, TaskScheduler.Default); // observed: it ends with the call
                return answer;
            }
            try
            {
                await write;
                written?.Invoke();
            }
            catch (RpcException)
            {
                return answer; // the server answered while this write was going out; its status is the call's
            }
        }
        await call.RequestStream.CompleteAsync();
        return answer;
    }
}
