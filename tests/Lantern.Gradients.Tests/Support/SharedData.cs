namespace Lantern.Gradients.Tests.Support;

/// <summary>
/// The shared models and images: ../shared beside the repository root (the folder holding Cluster.sln). Missing data is a
/// failure in CI (CI=true, DESIGN §4) and the real-model specs report it instead of passing silently elsewhere too.
/// </summary>
public static class SharedData
{
    private static readonly Lazy<string> LazyRoot = new(Find);

    public static string Root => LazyRoot.Value;

    public static byte[] Model(string file) => File.ReadAllBytes(Existing(Path.Combine(Root, "models", file)));

    public static string Image(string file) => Existing(Path.Combine(Root, "images", file));

    private static string Existing(string path) =>
        File.Exists(path) ? path : throw new FileNotFoundException($"shared test file {path} is missing", path);

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (!File.Exists(Path.Combine(dir.FullName, "Cluster.sln"))) continue;
            var shared = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared"));
            if (Directory.Exists(Path.Combine(shared, "models"))) return shared;
            throw new DirectoryNotFoundException(
                $"the shared test data must sit beside the repository: {shared}/models is missing (CI={Environment.GetEnvironmentVariable("CI")})");
        }
        throw new DirectoryNotFoundException($"no Cluster.sln above {AppContext.BaseDirectory}");
    }
}
