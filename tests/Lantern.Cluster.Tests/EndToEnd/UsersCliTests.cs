using Lantern.Cli;
using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Gateway.Hosting;
using Lantern.Storage.Users;

namespace Lantern.Cluster.Tests.EndToEnd;

/// <summary><c>lantern users …</c> against the database, and <c>lantern explain --gateway --api-key</c> on a node with keys.</summary>
[Collection(CommandLineCollection.Name)]
public sealed class UsersCliTests
{
    /// <summary>
    /// Runs the command with stdout captured. Only for commands that print with Console, not Spectre.Console: its
    /// AnsiConsole binds to whatever Console.Out is at its first use and keeps writing there from a refresh thread.
    /// </summary>
    private static async Task<(int ExitCode, string Output)> RunAsync(params string[] args)
    {
        var previous = Console.Out;
        var output = new StringWriter();
        Console.SetOut(output);
        try
        {
            return (await LanternCli.RunAsync(args), output.ToString());
        }
        finally
        {
            Console.SetOut(previous);
        }
    }

    [Fact]
    public async Task Users_add_prints_a_key_once_and_set_quota_and_revoke_act_on_the_database()
    {
        var database = TestNode.TempDatabase();

        var (added, output) = await RunAsync("users", "add", "root", "--team", "ops", "--admin", "--db", database);
        var (again, _) = await RunAsync("users", "add", "root", "--team", "other", "--db", database);
        var (quota, _) = await RunAsync("users", "set-quota", "root", "--targets-per-job", "3", "--db", database);
        var (revoked, _) = await RunAsync("users", "revoke", "root", "--db", database);

        Assert.Equal((0, 1, 0, 0), (added, again, quota, revoked));
        // The key's own line: Console.Out is the process's, and a node of a test running beside this one may log into it.
        var key = output.Split('\n', StringSplitOptions.TrimEntries).Where(ApiKeys.IsWellFormed).SingleOrDefault() ?? "";
        Assert.True(ApiKeys.IsWellFormed(key), $"no API key printed: '{output}'");
        using var users = UserStore.Sqlite($"Data Source={database}");
        var root = await users.FindByKeyAsync(key);
        Assert.Equal(("root", "ops", true, true), (root!.Name, root.Team, root.Admin, root.Revoked));
        Assert.Equal([new QuotaOverride(QuotaScope.User, "root", "targets_per_job", 3)], await users.QuotasAsync("root", "ops"));
    }

    [Fact]
    public async Task Explain_against_a_gateway_with_keys_needs_the_api_key()
    {
        await using var node = await TestNode.StartAsync(gateway: new GatewayOptions { RequireApiKey = true });
        var key = (await node.Users.AddUserAsync("alice", "vision", admin: false)).ApiKey;
        var directory = Directory.CreateTempSubdirectory("lantern-cli-key-").FullName;
        var model = Path.Combine(directory, "square.onnx");
        await File.WriteAllBytesAsync(model, SyntheticModels.SquareBrightness(16, 16, (4, 4, 4, 4)));
        var image = Path.Combine(directory, "noise.png");
        await File.WriteAllBytesAsync(image, TestImages.Noise(16, 16));
        string[] explain = ["explain", image, "--model", model, "--method", "occlusion", "--window", "4", "--classes", "0",
            "--resize", "stretch", "--scale", "1", "--mean", "0,0,0", "--std", "1,1,1", "--out", Path.Combine(directory, "out"),
            "--gateway", node.Address.ToString()];

        var without = await LanternCli.RunAsync(explain);
        var with = await LanternCli.RunAsync([.. explain, "--api-key", key]);

        Assert.Equal(1, without);
        Assert.Equal(0, with);
        Assert.True(File.Exists(Path.Combine(directory, "out", "map-0.npy")));
    }
}
