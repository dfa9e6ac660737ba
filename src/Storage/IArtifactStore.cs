namespace Lantern.Storage;

/// <summary>
/// Content-addressed blobs (models, images, result maps), keyed by the lowercase hex SHA-256 of their bytes.
/// Putting the same bytes twice stores them once.
/// </summary>
public interface IArtifactStore
{
    Task<ArtifactPut> PutAsync(ReadOnlyMemory<byte> content, string kind, CancellationToken cancellationToken = default);

    /// <returns>The bytes, or null when no artifact has that hash.</returns>
    Task<byte[]?> GetAsync(string sha256, CancellationToken cancellationToken = default);

    Task<bool> ExistsAsync(string sha256, CancellationToken cancellationToken = default);
}

public sealed record ArtifactPut(string Sha256, long Size, bool AlreadyPresent);
