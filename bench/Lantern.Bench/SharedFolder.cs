namespace Lantern.Bench;

/// <summary>Finds the shared data folder (models/, images/) that the repository's checkouts sit beside.</summary>
public static class SharedFolder
{
    /// <summary>The explicit folder, else the first <c>shared/</c> holding <c>models/</c> above the current directory or the program.</summary>
    /// <exception cref="DirectoryNotFoundException">None was found; the message says where it looked.</exception>
    public static string Locate(string? explicitFolder)
    {
        if (explicitFolder is not null)
        {
            return Directory.Exists(Path.Combine(explicitFolder, "models"))
                ? Path.GetFullPath(explicitFolder)
                : throw new DirectoryNotFoundException($"--shared {explicitFolder} has no models/ folder");
        }
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "shared");
                if (Directory.Exists(Path.Combine(candidate, "models"))) return candidate;
            }
        }
        throw new DirectoryNotFoundException(
            $"no shared/models folder above {Directory.GetCurrentDirectory()} or {AppContext.BaseDirectory}; pass --shared DIR");
    }

    /// <summary>A model given as a path, or as a file name under <c>shared/models</c>.</summary>
    public static string ModelPath(string shared, string model) =>
        File.Exists(model) ? Path.GetFullPath(model) : Path.Combine(shared, "models", model);
}
