using System.Security.Cryptography;

namespace Lantern.Gateway.Uploads;

/// <summary>
/// An upload written to a temporary file as its chunks arrive and hashed on the way, so that a model of hundreds of
/// megabytes is checked and stored without ever being whole in memory. The file is deleted when this is disposed.
/// </summary>
public sealed class SpooledUpload : IAsyncDisposable
{
    private readonly FileStream _file;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private string? _sha256;

    public SpooledUpload()
    {
        var path = Path.Combine(Path.GetTempPath(), $"lantern-upload-{Guid.NewGuid():N}");
        _file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, bufferSize: 1 << 16,
            FileOptions.DeleteOnClose | FileOptions.Asynchronous);
    }

    public long Length => _file.Length;

    public async Task AppendAsync(ReadOnlyMemory<byte> chunk, CancellationToken cancellationToken)
    {
        if (_sha256 is not null) throw new InvalidOperationException("the upload is complete");
        _hash.AppendData(chunk.Span);
        await _file.WriteAsync(chunk, cancellationToken);
    }

    /// <summary>The lowercase hex SHA-256 of every byte appended; ends the upload.</summary>
    public string Sha256 => _sha256 ??= Convert.ToHexStringLower(_hash.GetHashAndReset());

    /// <summary>The bytes from the start, for one reader at a time (the returned stream is this upload's file).</summary>
    public Stream Rewind()
    {
        _ = Sha256;
        _file.Flush();
        _file.Position = 0;
        return _file;
    }

    public async ValueTask DisposeAsync()
    {
        _hash.Dispose();
        await _file.DisposeAsync();
    }
}
