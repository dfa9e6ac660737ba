using System.Diagnostics;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Lantern.Deploy.Tests;

/// <summary>Reading the deployment files: YAML documents as nodes (merge keys resolved), and what `lantern serve` reads.</summary>
public static partial class Yaml
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static IReadOnlyList<YamlMappingNode> Documents(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        return [.. stream.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>().Select(Merged)];
    }

    /// <summary>A mapping with YAML merge keys (<c>&lt;&lt;: *anchor</c>) applied, recursively; own keys win.</summary>
    public static YamlMappingNode Merged(YamlMappingNode node)
    {
        var result = new YamlMappingNode();
        foreach (var (key, value) in node.Children)
        {
            if (key is YamlScalarNode { Value: "<<" }) continue;
            result.Children[key] = value is YamlMappingNode mapping ? Merged(mapping)
                : value is YamlSequenceNode sequence ? new YamlSequenceNode(sequence.Children.Select(c => c is YamlMappingNode m ? Merged(m) : c))
                : value;
        }
        if (node.Children.TryGetValue(new YamlScalarNode("<<"), out var merge))
        {
            var sources = merge is YamlSequenceNode many ? many.Children.Cast<YamlMappingNode>() : [(YamlMappingNode)merge];
            foreach (var source in sources)
            foreach (var (key, value) in Merged(source).Children)
                result.Children.TryAdd(key, value);
        }
        return result;
    }

    public static YamlNode? At(this YamlNode node, params string[] path)
    {
        var current = node;
        foreach (var step in path)
        {
            if (current is not YamlMappingNode mapping || !mapping.Children.TryGetValue(new YamlScalarNode(step), out var next)) return null;
            current = next;
        }
        return current;
    }

    public static string? Text(this YamlNode node, params string[] path) => (node.At(path) as YamlScalarNode)?.Value;

    public static IEnumerable<YamlNode> Items(this YamlNode node, params string[] path) =>
        node.At(path) is YamlSequenceNode sequence ? sequence.Children : [];

    public static IReadOnlyDictionary<string, string> Map(this YamlNode node, params string[] path) =>
        node.At(path) is YamlMappingNode mapping
            ? mapping.Children.ToDictionary(c => ((YamlScalarNode)c.Key).Value!, c => (c.Value as YamlScalarNode)?.Value ?? "")
            : new Dictionary<string, string>();

    /// <summary>Every LANTERN_* variable `lantern serve` reads, from its options' help texts (each names its variable).</summary>
    public static IReadOnlySet<string> ServeVariables { get; } = ServeEnvironment();

    private static HashSet<string> ServeEnvironment()
    {
        var command = Cli.Commands.ServeCommand.Create();
        return [.. command.Options.SelectMany(o => EnvName().Matches(o.Description ?? "").Select(m => m.Groups[1].Value))];
    }

    [GeneratedRegex(@"env (LANTERN_[A-Z_]+)")]
    private static partial Regex EnvName();

    public static (int ExitCode, string Output) Run(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepositoryRoot };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Cluster.sln"))) return dir.FullName;
        throw new InvalidOperationException("Cluster.sln not found above the test directory");
    }
}
