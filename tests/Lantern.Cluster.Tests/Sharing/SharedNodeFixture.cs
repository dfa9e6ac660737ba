using Lantern.Cli.Client;
using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Api;
using Lantern.Gateway.Hosting;

namespace Lantern.Cluster.Tests.Sharing;

/// <summary>
/// One node that requires API keys, shared by a team: alice and bob in team vision, carol in team audio, root the
/// admin. Alice has uploaded a small synthetic model and image.
/// </summary>
public sealed class SharedNodeFixture : IAsyncLifetime
{
    public const int Size = 8;

    public TestNode Node { get; private set; } = null!;
    public ExplainClient Alice { get; private set; } = null!;
    public ExplainClient Bob { get; private set; } = null!;
    public ExplainClient Carol { get; private set; } = null!;
    public ExplainClient Root { get; private set; } = null!;
    public ExplainClient Anonymous { get; private set; } = null!;
    public string RootKey { get; private set; } = "";
    public byte[] Model { get; } = SyntheticModels.SquareBrightness(Size, Size, (2, 2, 4, 4));
    public byte[] Image { get; } = TestImages.Noise(Size, Size, seed: 21);
    public string ModelSha256 { get; private set; } = "";
    public string ImageSha256 { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Node = await TestNode.StartAsync(gateway: new GatewayOptions { RequireApiKey = true });
        RootKey = (await Node.Users.AddUserAsync("root", "ops", admin: true)).ApiKey;
        Root = Node.ClientWith(RootKey);
        Alice = await AddAsync("alice", "vision");
        Bob = await AddAsync("bob", "vision");
        Carol = await AddAsync("carol", "audio");
        Anonymous = Node.ClientWith(null);
        ModelSha256 = (await Alice.UploadModelAsync(Model, "square.onnx")).Sha256;
        ImageSha256 = (await Alice.UploadImageAsync(Image, "noise.png")).Sha256;
    }

    /// <summary>A user added through the Admin service, as <c>lantern users add --gateway</c> does.</summary>
    public async Task<ExplainClient> AddAsync(string name, string team, bool admin = false)
    {
        var added = await Root.Admin.AddUserAsync(new AddUserRequest { Name = name, Team = team, Admin = admin });
        return Node.ClientWith(added.ApiKey);
    }

    public SubmitJobRequest Submit(string name = "job") => new()
    {
        ModelSha256 = ModelSha256,
        ImageSha256 = ImageSha256,
        Preprocessing = TestJobs.Identity(Size, Size),
        Targets = new Targets { Classes = { 0 } },
        Occlusion = TestJobs.Occlusion((2, 2)),
        Name = name,
    };

    public async Task DisposeAsync()
    {
        foreach (var client in new[] { Alice, Bob, Carol, Root, Anonymous }) client.Dispose();
        await Node.DisposeAsync();
    }
}
