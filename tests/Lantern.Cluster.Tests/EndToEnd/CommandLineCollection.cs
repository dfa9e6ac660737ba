namespace Lantern.Cluster.Tests.EndToEnd;

/// <summary>
/// Tests that run the `lantern` command in-process share one console: Spectre.Console refuses two live progress
/// displays at once, so these classes run one after another.
/// </summary>
[CollectionDefinition(Name)]
public sealed class CommandLineCollection
{
    public const string Name = "lantern command line";
}
