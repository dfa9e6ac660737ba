using System.Collections.Concurrent;
using Lantern.Storage;

namespace Lantern.Bench;

/// <summary>
/// The artifact store of the in-process path: content-addressed like the SQLite one, kept in memory so the figure
/// holds inference and perturbation only.
/// </summary>
public sealed class InMemoryArtifactStore : IArtifactStore
{
    private readonly ConcurrentDictionary<string, byte[]> _blobs = new();

    public Task<ArtifactPut> PutAsync(ReadOnlyMemory<byte> content, string kind, CancellationToken cancellationToken = default)
    {
        var sha256 = ContentHash.Sha256(content.Span);
        var present = !_blobs.TryAdd(sha256, content.ToArray());
        return Task.FromResult(new ArtifactPut(sha256, content.Length, present));
    }

    public Task<byte[]?> GetAsync(string sha256, CancellationToken cancellationToken = default) =>
        Task.FromResult(_blobs.TryGetValue(sha256, out var bytes) ? bytes : null);

    public Task<bool> ExistsAsync(string sha256, CancellationToken cancellationToken = default) =>
        Task.FromResult(_blobs.ContainsKey(sha256));

    public async Task<ArtifactPut> PutAsync(Stream content, string sha256, long size, string kind, CancellationToken cancellationToken = default)
    {
        using var buffer = new MemoryStream();
        await content.CopyToAsync(buffer, cancellationToken);
        var present = !_blobs.TryAdd(sha256, buffer.ToArray());
        return new ArtifactPut(sha256, size, present);
    }

    /// <summary>The bench keeps everything: nothing is old enough to go.</summary>
    public Task<IReadOnlyList<string>> DeleteUnusedAsync(IReadOnlyCollection<string> kinds, long putBeforeUnixMs, IReadOnlySet<string> keep,
        CancellationToken cancellationToken = default) => Task.FromResult<IReadOnlyList<string>>([]);
}
