namespace Lantern.Cluster.Tests.MultiProcess;

/// <summary>Multi-process tests start several node processes each: they run one at a time, apart from other tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MultiProcessCollection
{
    public const string Name = "Multi-process cluster";
}
