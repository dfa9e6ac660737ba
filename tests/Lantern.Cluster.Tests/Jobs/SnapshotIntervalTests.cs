using Lantern.Coordinator.Hosting;

namespace Lantern.Cluster.Tests.Jobs;

/// <summary>How often a job snapshots: a snapshot holds the whole score buffer, so big jobs snapshot by tenths.</summary>
public sealed class SnapshotIntervalTests
{
    [Theory]
    [InlineData(931, 1_000)] // a small job: the configured interval
    [InlineData(10_000, 1_000)] // a tenth is exactly the configured interval
    [InlineData(100_018, 10_001)] // the bench's 10⁵-item job: ten snapshots, not a hundred
    [InlineData(1_000_053, 100_005)] // 10⁶ items: ten 128 MB buffers written, not a thousand
    public void A_job_snapshots_every_thousand_items_or_every_tenth_of_its_items_when_that_is_more(int items, int interval) =>
        Assert.Equal(interval, new CoordinatorOptions { SnapshotEveryItems = 1_000 }.SnapshotIntervalFor(items));

    [Fact]
    public void Zero_turns_snapshots_off_whatever_the_size() =>
        Assert.Equal(0, new CoordinatorOptions { SnapshotEveryItems = 0 }.SnapshotIntervalFor(1_000_000));
}
