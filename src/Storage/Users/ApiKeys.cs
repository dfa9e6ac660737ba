using System.Security.Cryptography;
using System.Text;

namespace Lantern.Storage.Users;

/// <summary>
/// API keys: 32 random bytes (256 bits) in URL-safe base64 behind a recognisable prefix. Only the SHA-256 of a key is
/// ever stored: a key has full entropy, so a fast hash cannot be brute-forced, and a stolen table grants nothing.
/// </summary>
public static class ApiKeys
{
    public const string Prefix = "lnt_";

    public static string New() =>
        Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>The shape <see cref="New"/> hands out; anything else is refused before the database is asked.</summary>
    public static bool IsWellFormed(string? key) =>
        key is { Length: 47 } && key.StartsWith(Prefix, StringComparison.Ordinal) &&
        key.AsSpan(Prefix.Length).IndexOfAnyExcept("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") < 0;
}
