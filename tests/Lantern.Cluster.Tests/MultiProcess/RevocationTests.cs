using Grpc.Core;
using Lantern.Cli.Client;
using Lantern.Contracts.Api;
using Lantern.Storage.Users;
using Xunit.Abstractions;

namespace Lantern.Cluster.Tests.MultiProcess;

/// <summary>
/// Two gateway processes over one database, as real `lantern serve` nodes with keys required: a key revoked through
/// one gateway is refused by the other on the very next call (no cache to expire).
/// </summary>
[Collection(MultiProcessCollection.Name)]
[Trait("Category", "Cluster")]
public sealed class RevocationTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_key_revoked_on_one_gateway_is_refused_at_once_by_the_other()
    {
        await using var cluster = new ProcessCluster(output) { RequireApiKeys = true };
        try
        {
            var database = Path.Combine(cluster.Directory, "lantern.db");
            string rootKey, aliceKey;
            using (var users = UserStore.Sqlite($"Data Source={database}"))
            {
                rootKey = (await users.AddUserAsync("root", "ops", admin: true)).ApiKey;
                aliceKey = (await users.AddUserAsync("alice", "vision", admin: false)).ApiKey;
            }
            var port = ProcessCluster.FreePort();
            var first = await cluster.StartCoordinatorAsync("gateway1", port, database);
            var second = await cluster.StartAsync("gateway2", "gateway", ProcessCluster.FreePort(), ProcessCluster.SeedAddress(port), database);
            using var aliceOnFirst = ExplainClient.Connect(first.GrpcAddress, aliceKey);
            using var aliceOnSecond = ExplainClient.Connect(second.GrpcAddress, aliceKey);
            using var rootOnFirst = ExplainClient.Connect(first.GrpcAddress, rootKey);
            // Uploads answer on either gateway without the cluster (ListJobs would wait for the journal to be queryable).
            var image = Support.TestImages.Noise(4, 4, seed: 1);
            await aliceOnFirst.UploadImageAsync(image, "a.png");
            await aliceOnSecond.UploadImageAsync(image, "a.png");
            var anonymous = await Assert.ThrowsAsync<RpcException>(() => second.Client.UploadImageAsync(image, "a.png"));
            Assert.Equal(StatusCode.Unauthenticated, anonymous.StatusCode);

            await rootOnFirst.Admin.RevokeUserAsync(new RevokeUserRequest { Name = "alice" });

            var error = await Assert.ThrowsAsync<RpcException>(() => aliceOnSecond.UploadImageAsync(image, "a.png"));
            Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
            Assert.Contains("'alice' was revoked", error.Status.Detail);
        }
        catch
        {
            cluster.WriteLogTails();
            throw;
        }
    }
}
