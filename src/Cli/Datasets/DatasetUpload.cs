using System.Security.Cryptography;
using Google.Protobuf;
using Lantern.Cli.Client;
using Lantern.Contracts.Api;

namespace Lantern.Cli.Datasets;

/// <summary>
/// Sends a dataset's images to a gateway: hashes every file here, asks the gateway which hashes it already holds for
/// the caller (<c>FindImages</c>), and streams only the others (a chunk at a time, a few files at once).
/// </summary>
public static class DatasetUpload
{
    private const int ChunkSize = 1 << 20;
    private const int FilesAtOnce = 4;

    /// <summary>Hashes per FindImages call (the gateway's limit).</summary>
    private const int HashesPerCall = 10_000;

    /// <param name="progress">Called with (images done, images in all) after the check and after each upload, from any thread.</param>
    /// <returns>Each file's sha256, in the files' order, and how many files were sent.</returns>
    public static async Task<(IReadOnlyList<string> Hashes, int Uploaded)> UploadAsync(ExplainClient client, IReadOnlyList<string> files,
        Action<int, int> progress, CancellationToken cancellationToken)
    {
        var hashes = new string[files.Count];
        await Parallel.ForAsync(0, files.Count, new ParallelOptions { MaxDegreeOfParallelism = FilesAtOnce, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                await using var stream = File.OpenRead(files[i]);
                hashes[i] = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, ct));
            });

        var held = new HashSet<string>(StringComparer.Ordinal);
        foreach (var batch in hashes.Distinct(StringComparer.Ordinal).Chunk(HashesPerCall))
            held.UnionWith((await client.Datasets.FindImagesAsync(new FindImagesRequest { Sha256 = { batch } },
                cancellationToken: cancellationToken)).Present);

        // A file whose bytes appear twice is sent once (and its copies count as done from the start).
        var toSend = Enumerable.Range(0, files.Count).Where(i => !held.Contains(hashes[i])).DistinctBy(i => hashes[i]).ToList();
        var done = files.Count - toSend.Count;
        progress(done, files.Count);
        await Parallel.ForEachAsync(toSend, new ParallelOptions { MaxDegreeOfParallelism = FilesAtOnce, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                var sent = await SendAsync(client, files[i], ct);
                if (sent.Sha256 != hashes[i])
                    throw new IOException($"{files[i]} changed while it was uploaded; run the command again");
                progress(Interlocked.Increment(ref done), files.Count);
            });
        progress(files.Count, files.Count);
        return (hashes, toSend.Count);
    }

    private static async Task<ArtifactRef> SendAsync(ExplainClient client, string path, CancellationToken cancellationToken)
    {
        using var call = client.Api.UploadImage(cancellationToken: cancellationToken);
        await using var stream = File.OpenRead(path);
        var buffer = new byte[ChunkSize];
        var first = true;
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0 || first)
        {
            var chunk = new UploadChunk { Data = ByteString.CopyFrom(buffer, 0, read) };
            if (first) chunk.FileName = Path.GetFileName(path);
            first = false;
            await call.RequestStream.WriteAsync(chunk, cancellationToken);
            if (read == 0) break;
        }
        await call.RequestStream.CompleteAsync();
        return await call;
    }
}
