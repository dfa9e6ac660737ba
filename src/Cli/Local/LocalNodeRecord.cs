using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Lantern.Cli.Local;

/// <summary>
/// What a running local node (<c>lantern local run</c>) tells later commands about itself, in <c>node.json</c> of the
/// per-user state directory: where it listens, the key every call must carry, the build and the settings it runs with.
/// The directory is 0700 and the file 0600, so only the same user can read the key; the node writes the file once it
/// is ready and removes it when it stops.
/// </summary>
public sealed record LocalNodeRecord(
    [property: JsonPropertyName("pid")] int Pid,
    [property: JsonPropertyName("address")] string Address,
    [property: JsonPropertyName("key")] string Key,
    [property: JsonPropertyName("build")] string Build,
    [property: JsonPropertyName("settings")] string Settings,
    [property: JsonPropertyName("providers")] IReadOnlyList<string> Providers,
    [property: JsonPropertyName("idle_timeout_s")] double IdleTimeoutSeconds,
    [property: JsonPropertyName("started_unix_ms")] long StartedUnixMs)
{
    /// <summary>$LANTERN_STATE_DIR, else $XDG_STATE_HOME/lantern, else ~/.local/state/lantern (created 0700).</summary>
    public static string StateDirectory()
    {
        var directory = Environment.GetEnvironmentVariable("LANTERN_STATE_DIR") is { Length: > 0 } explicitDirectory ? explicitDirectory
            : Path.Combine(Environment.GetEnvironmentVariable("XDG_STATE_HOME") is { Length: > 0 } state ? state
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state"), "lantern");
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(directory);
        else
        {
            const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
            Directory.CreateDirectory(directory, Private);
            if (File.GetUnixFileMode(directory) != Private) File.SetUnixFileMode(directory, Private); // made by someone else, wider
        }
        return directory;
    }

    public static string PathIn(string directory) => Path.Combine(directory, "node.json");

    public static LocalNodeRecord? Read(string directory)
    {
        try
        {
            return JsonSerializer.Deserialize<LocalNodeRecord>(File.ReadAllBytes(PathIn(directory)));
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return null; // none, or half a file from a node killed while writing it: either way no usable node
        }
    }

    /// <summary>Written to a temporary file created 0600 and renamed over the record, so a reader sees all of it or none.</summary>
    public void Write(string directory)
    {
        var temporary = PathIn(directory) + $".{Pid}.tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(temporary, options)) JsonSerializer.Serialize(stream, this);
        File.Move(temporary, PathIn(directory), overwrite: true);
    }

    /// <summary>Removes the record if it is still this process's (a newer node may have replaced it).</summary>
    public static void RemoveIfOwnedBy(string directory, int pid)
    {
        if (Read(directory)?.Pid == pid) File.Delete(PathIn(directory));
    }

    /// <summary>256 random bits, base64url: the bearer key of one node's lifetime.</summary>
    public static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>
    /// This build: the names, sizes and modification times of lantern.dll and the Lantern.* assemblies beside it. A rebuilt
    /// CLI finds a node of the old build under another id and replaces it (a few file stats; no assembly is loaded).
    /// </summary>
    public static string CurrentBuild()
    {
        var files = Directory.EnumerateFiles(AppContext.BaseDirectory, "*.dll")
            .Where(f => Path.GetFileName(f) is var name && (name == "lantern.dll" || name.StartsWith("Lantern.", StringComparison.Ordinal)))
            .Order(StringComparer.Ordinal)
            .Select(f => new FileInfo(f))
            .Select(f => $"{f.Name}:{f.Length}:{f.LastWriteTimeUtc.Ticks}");
        return Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Join('\n', files))))[..16].ToLowerInvariant();
    }
}
