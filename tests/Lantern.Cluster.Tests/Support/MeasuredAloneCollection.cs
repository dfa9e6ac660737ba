namespace Lantern.Cluster.Tests.Support;

/// <summary>
/// Tests that compare figures measured on this machine (a job's time beside others against its time alone, shares of a
/// worker's evaluations) run one at a time, after the parallel ones: another test class running beside them on the
/// 2-core CI machine slows the job entities' bookkeeping in one measurement and not the other, and the ratio then
/// measures the other test, not Lantern.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MeasuredAloneCollection
{
    public const string Name = "Measured alone";
}
