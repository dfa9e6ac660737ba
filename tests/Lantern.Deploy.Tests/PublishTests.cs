using System.Text.RegularExpressions;

namespace Lantern.Deploy.Tests;

/// <summary>
/// The images cannot be built here (no container engine, no base images), so the part of them that is ours is run:
/// the `dotnet publish` both Dockerfiles run, once, and the entrypoint it produces.
/// </summary>
public sealed partial class PublishTests
{
    private static readonly string[] Dockerfiles = ["deploy/docker/Dockerfile.cpu", "deploy/docker/Dockerfile.cuda"];

    [Fact]
    public void Both_dockerfiles_publish_the_same_way_and_that_publish_gives_a_lantern_entrypoint_with_onnx_runtime()
    {
        var publishes = Dockerfiles.Select(PublishLine).Distinct().ToList();
        var publish = Assert.Single(publishes); // one command, so the test below covers both images
        var arguments = publish.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToList(); // after "dotnet"
        var output = Directory.CreateTempSubdirectory("lantern-publish-").FullName;
        try
        {
            var at = arguments.IndexOf("-o");
            Assert.Equal("/app", arguments[at + 1]);
            arguments[at + 1] = output;
            var (exit, log) = Yaml.Run("dotnet", [.. arguments]);
            Assert.True(exit == 0, $"dotnet {string.Join(' ', arguments)} failed:\n{log}");

            foreach (var dockerfile in Dockerfiles)
            {
                var text = File.ReadAllText(Path.Combine(Yaml.RepositoryRoot, dockerfile));
                Assert.Contains("ENTRYPOINT [\"/app/lantern\"]", text);
                Assert.Matches(@"(?m)^USER app$", text);
            }
            Assert.True(File.Exists(Path.Combine(output, "lantern")), "no apphost: the images' ENTRYPOINT /app/lantern would not exist");
            Assert.True(File.Exists(Path.Combine(output, "runtimes", "linux-x64", "native", "libonnxruntime.so")));
            Assert.True(File.Exists(Path.Combine(output, "runtimes", "linux-x64", "native", "libonnxruntime_providers_cuda.so")),
                "the CUDA image relies on the published CUDA provider");

            // The published entrypoint runs and knows the options the images set through the environment.
            var (helpExit, help) = Yaml.Run(Path.Combine(output, "lantern"), "serve", "--help");
            Assert.True(helpExit == 0, help);
            foreach (var variable in (string[])["LANTERN_ROLES", "LANTERN_HTTP_PORT", "LANTERN_DISCOVERY", "LANTERN_CLUSTER_HOST"])
                Assert.Contains(variable, help);
            foreach (var dockerfile in Dockerfiles)
            foreach (Match set in EnvSetting().Matches(File.ReadAllText(Path.Combine(Yaml.RepositoryRoot, dockerfile))))
                Assert.Contains(set.Groups[1].Value, Yaml.ServeVariables);
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    private static string PublishLine(string dockerfile) =>
        Assert.Single(File.ReadAllLines(Path.Combine(Yaml.RepositoryRoot, dockerfile)),
            l => l.StartsWith("RUN dotnet publish ", StringComparison.Ordinal))["RUN ".Length..].Trim();

    [GeneratedRegex(@"(LANTERN_[A-Z_]+)=")]
    private static partial Regex EnvSetting();
}
