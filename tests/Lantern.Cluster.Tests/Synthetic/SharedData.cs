namespace Lantern.Cluster.Tests.Synthetic;

/// <summary>
/// Finds the shared test data (models, images) that sits beside the repository: /work/shared next to /work/main here,
/// a copy beside the clone in CI. Missing data is a failure, never a skip (DESIGN §4).
/// </summary>
public static class SharedData
{
    private static readonly Lazy<string> LazyRoot = new(Find);

    /// <summary>The folder that holds models/ and images/.</summary>
    public static string Root => LazyRoot.Value;

    public static string Model(string file) => Existing(Path.Combine(Root, "models", file));

    public static string Image(string file) => Existing(Path.Combine(Root, "images", file));

    private static string Existing(string path) =>
        File.Exists(path) ? path : throw new FileNotFoundException($"shared test file {path} is missing", path);

    /// <summary>Overrides the search, for a checkout that does not sit beside shared/.</summary>
    public const string EnvironmentVariable = "LANTERN_SHARED_DIR";

    private static string Find()
    {
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } configured)
        {
            return Directory.Exists(Path.Combine(configured, "models"))
                ? configured
                : throw new DirectoryNotFoundException($"{EnvironmentVariable}={configured} has no models/ folder");
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared");
            if (Directory.Exists(Path.Combine(candidate, "models"))) return candidate;
        }
        throw new DirectoryNotFoundException(
            $"no 'shared' folder with models/ found above {AppContext.BaseDirectory}; " +
            "the shared test data must sit beside the repository (e.g. /work/shared next to /work/main), " +
            $"or {EnvironmentVariable} must name it");
    }
}
