using Akka.Actor;
using Akka.Cluster;
using Lantern.Contracts.Cluster;
using Lantern.Contracts.Messages;
using Lantern.Storage;

namespace Lantern.Worker.Artifacts;

/// <summary>
/// The artifact store of a node without the database: reads each artifact once, in chunks, from a coordinator node's
/// artifact server, checks its SHA-256 and keeps it in a local disk cache. Read-only: uploads go through a gateway.
/// </summary>
public sealed class ClusterArtifactStore(ActorSystem system, string cacheDirectory) : IArtifactStore
{
    /// <summary>Chunks stay well under Akka.Remote's frame size.</summary>
    private const int ChunkSize = 96 * 1024;

    private static readonly TimeSpan ChunkTimeout = TimeSpan.FromSeconds(20);
    private readonly SemaphoreSlim _oneFetchAtATime = new(1, 1);

    public Task<ArtifactPut> PutAsync(ReadOnlyMemory<byte> content, string kind, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("a worker node stores no artifacts; upload through a gateway");

    public Task<ArtifactPut> PutAsync(Stream content, string sha256, long size, string kind, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("a worker node stores no artifacts; upload through a gateway");

    public async Task<bool> ExistsAsync(string sha256, CancellationToken cancellationToken = default) =>
        await GetAsync(sha256, cancellationToken) is not null;

    /// <summary>Retention runs where the database is (the coordinator), never through a worker's cache.</summary>
    public Task<IReadOnlyList<string>> DeleteUnusedAsync(IReadOnlyCollection<string> kinds, long putBeforeUnixMs,
        IReadOnlySet<string> keep, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("a worker without the database cannot delete artifacts");

    public async Task<byte[]?> GetAsync(string sha256, CancellationToken cancellationToken = default)
    {
        if (!ContentHash.IsWellFormed(sha256)) return null;
        var cached = Path.Combine(cacheDirectory, sha256);
        if (File.Exists(cached)) return await File.ReadAllBytesAsync(cached, cancellationToken);

        await _oneFetchAtATime.WaitAsync(cancellationToken);
        try
        {
            if (File.Exists(cached)) return await File.ReadAllBytesAsync(cached, cancellationToken);
            var bytes = await FetchAsync(sha256, cancellationToken);
            if (bytes is null) return null;
            if (ContentHash.Sha256(bytes) != sha256)
                throw new InvalidOperationException($"artifact {sha256} arrived with a different hash; refusing it");
            Directory.CreateDirectory(cacheDirectory);
            var partial = cached + ".part";
            await File.WriteAllBytesAsync(partial, bytes, cancellationToken);
            File.Move(partial, cached, overwrite: true);
            return bytes;
        }
        finally
        {
            _oneFetchAtATime.Release();
        }
    }

    private async Task<byte[]?> FetchAsync(string sha256, CancellationToken cancellationToken)
    {
        var server = ArtifactServer();
        var first = await AskAsync(server, sha256, 0, cancellationToken);
        if (!first.Found) return null;
        var bytes = new byte[first.TotalSize];
        first.Data.CopyTo(bytes, 0);
        for (var offset = (long)first.Data.Length; offset < bytes.Length;)
        {
            var chunk = await AskAsync(server, sha256, offset, cancellationToken);
            chunk.Data.CopyTo(bytes, (int)offset);
            offset += chunk.Data.Length;
        }
        return bytes;
    }

    private static async Task<ArtifactChunk> AskAsync(ActorSelection server, string sha256, long offset, CancellationToken cancellationToken)
    {
        try
        {
            return await server.Ask<ArtifactChunk>(new FetchArtifact { Sha256 = sha256, Offset = offset, Length = ChunkSize },
                ChunkTimeout, cancellationToken);
        }
        catch (AskTimeoutException e)
        {
            throw new ArtifactUnavailableException($"no answer from {server.PathString} for artifact {sha256[..12]}", e);
        }
    }

    /// <summary>Any coordinator node that is up; they all read the same database.</summary>
    private ActorSelection ArtifactServer()
    {
        var member = Cluster.Get(system).State.Members
                         .Where(m => m.Status == MemberStatus.Up && m.HasRole(ClusterRoles.Coordinator))
                         .OrderBy(_ => Random.Shared.Next())
                         .FirstOrDefault()
                     ?? throw new ArtifactUnavailableException("no coordinator node is up to fetch artifacts from");
        return system.ActorSelection(new RootActorPath(member.Address) / "user" / "artifacts");
    }
}
