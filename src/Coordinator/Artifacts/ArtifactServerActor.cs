using Akka.Actor;
using Google.Protobuf;
using Lantern.Contracts.Messages;
using Lantern.Storage;

namespace Lantern.Coordinator.Artifacts;

/// <summary>
/// Serves artifacts in chunks to nodes without the database (workers). Keeps the last artifact it read in memory, since a
/// fetch asks for consecutive chunks of one artifact.
/// </summary>
public sealed class ArtifactServerActor : ReceiveActor
{
    public const string Name = "artifacts";

    private string? _cachedSha256;
    private byte[]? _cached;

    public ArtifactServerActor(IArtifactStore store)
    {
        ReceiveAsync<FetchArtifact>(async fetch =>
        {
            if (fetch.Sha256 != _cachedSha256)
            {
                _cached = await store.GetAsync(fetch.Sha256);
                _cachedSha256 = fetch.Sha256;
            }
            if (_cached is null)
            {
                Sender.Tell(new ArtifactChunk { Sha256 = fetch.Sha256, Found = false });
                return;
            }
            var offset = (int)Math.Clamp(fetch.Offset, 0, _cached.Length);
            var length = Math.Min(Math.Max(0, fetch.Length), _cached.Length - offset);
            Sender.Tell(new ArtifactChunk
            {
                Sha256 = fetch.Sha256, Found = true, TotalSize = _cached.Length, Offset = offset,
                Data = ByteString.CopyFrom(_cached, offset, length),
            });
        });
    }

    public static Props PropsFor(IArtifactStore store) => Props.Create(() => new ArtifactServerActor(store));
}
