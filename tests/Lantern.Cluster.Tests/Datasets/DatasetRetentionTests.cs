using Lantern.Cluster.Tests.Support;
using Lantern.Contracts.Api;
using Lantern.Coordinator.Hosting;
using Lantern.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Lantern.Cluster.Tests.Datasets;

/// <summary><c>serve --retention</c> deletes uploads nothing uses; an image a dataset lists is used, for as long as the dataset lists it.</summary>
public sealed class DatasetRetentionTests
{
    [Fact]
    public async Task Retention_keeps_the_images_a_dataset_lists_and_deletes_them_once_no_dataset_does()
    {
        await using var node = await TestNode.StartAsync(coordinator: new CoordinatorOptions
        {
            Retention = TimeSpan.FromSeconds(2), RetentionSweepInterval = TimeSpan.FromMilliseconds(300),
        });
        var store = node.Services.GetRequiredService<IArtifactStore>();
        var listed = (await node.Client.UploadImageAsync(TestImages.Noise(8, 8, seed: 1), "listed.png")).Sha256;
        var unused = (await node.Client.UploadImageAsync(TestImages.Noise(8, 8, seed: 2), "unused.png")).Sha256;
        await node.Client.Datasets.CreateDatasetAsync(new CreateDatasetRequest
        {
            Name = "kept", Entries = { new DatasetEntry { ImageSha256 = listed, FileName = "listed.png" } },
        });

        await UntilAsync(async () => !await store.ExistsAsync(unused), "the unused upload was not deleted within a minute");
        Assert.True(await store.ExistsAsync(listed));

        await node.Client.Datasets.DeleteDatasetAsync(new DeleteDatasetRequest { Dataset = "kept" });
        await UntilAsync(async () => !await store.ExistsAsync(listed), "the image was not deleted within a minute of its dataset");
    }

    private static async Task UntilAsync(Func<Task<bool>> condition, string failure)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, failure);
            await Task.Delay(200);
        }
    }
}
