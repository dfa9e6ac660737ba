using System.Security.Cryptography;

namespace Lantern.Storage;

public static class ContentHash
{
    public static string Sha256(ReadOnlySpan<byte> content) => Convert.ToHexStringLower(SHA256.HashData(content));

    /// <summary>True for 64 lowercase hex characters, the only form the store hands out.</summary>
    public static bool IsWellFormed(string? sha256) =>
        sha256 is { Length: 64 } && sha256.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');
}
