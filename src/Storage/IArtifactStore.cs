namespace Lantern.Storage;

/// <summary>
/// Content-addressed blobs (models, images, result maps), keyed by the lowercase hex SHA-256 of their bytes.
/// Putting the same bytes twice stores them once (and records when they were last put, for retention).
/// </summary>
public interface IArtifactStore
{
    Task<ArtifactPut> PutAsync(ReadOnlyMemory<byte> content, string kind, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores bytes read from a stream (an upload spooled to disk), without holding them in memory. The caller hashed
    /// them as they arrived: <paramref name="sha256"/> and <paramref name="size"/> must be the stream's.
    /// </summary>
    Task<ArtifactPut> PutAsync(Stream content, string sha256, long size, string kind, CancellationToken cancellationToken = default);

    /// <returns>The bytes, or null when no artifact has that hash.</returns>
    Task<byte[]?> GetAsync(string sha256, CancellationToken cancellationToken = default);

    Task<bool> ExistsAsync(string sha256, CancellationToken cancellationToken = default);

    /// <summary>
    /// Retention: deletes the artifacts of these kinds whose bytes were last put before <paramref name="putBeforeUnixMs"/>
    /// (an upload of bytes already stored counts as a put), except those in <paramref name="keep"/>.
    /// </summary>
    /// <returns>The hashes deleted.</returns>
    Task<IReadOnlyList<string>> DeleteUnusedAsync(IReadOnlyCollection<string> kinds, long putBeforeUnixMs, IReadOnlySet<string> keep,
        CancellationToken cancellationToken = default);
}

public sealed record ArtifactPut(string Sha256, long Size, bool AlreadyPresent);
