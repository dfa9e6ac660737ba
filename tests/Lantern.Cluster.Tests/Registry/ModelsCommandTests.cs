using Lantern.Cli;
using Lantern.Cluster.Tests.EndToEnd;
using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Api;
using Lantern.Gateway.Hosting;
using Lantern.Imaging;
using ModelsClient = Lantern.Contracts.Api.Models.ModelsClient;

namespace Lantern.Cluster.Tests.Registry;

/// <summary><c>lantern models push|list|show|rm</c> against a node's gateway, as a user runs them.</summary>
[Collection(CommandLineCollection.Name)]
public sealed class ModelsCommandTests
{
    private const int Size = 48;
    private const string Preprocessing = """{ "resize": "stretch", "scale": 1, "mean": [0, 0, 0], "std": [1, 1, 1], "output": "logits" }""";
    private readonly string _directory = Directory.CreateTempSubdirectory("lantern-models-").FullName;

    /// <summary>A CNN that sees only (8, 8, 16, 16) of a 48×48 image, and its labels file: class 0 "inside", 1 "outside".</summary>
    private (string Model, string Labels) WriteModelAndLabels()
    {
        var model = Path.Combine(_directory, "cnn.onnx");
        File.WriteAllBytes(model, SyntheticModels.RegionCnn(Size, Size, (8, 8, 16, 16)));
        var labels = Path.Combine(_directory, "labels.txt");
        File.WriteAllLines(labels, ["inside", "outside"]);
        return (model, labels);
    }

    [Fact]
    public async Task Push_registers_the_file_with_its_labels_and_preprocessing_show_and_list_read_it_and_rm_removes_it()
    {
        await using var node = await TestNode.StartAsync();
        var gateway = node.Address.ToString();
        var (model, labels) = WriteModelAndLabels();

        Assert.Equal(0, await LanternCli.RunAsync(["models", "push", model, "--name", "cnn", "--version", "7", "--labels", labels,
            "--preprocessing", Preprocessing, "--description", "region CNN", "--gateway", gateway]));
        Assert.Equal(0, await LanternCli.RunAsync(["models", "list", "--gateway", gateway]));
        Assert.Equal(0, await LanternCli.RunAsync(["models", "show", "cnn:7", "--gateway", gateway]));

        var registered = await new ModelsClient(node.Client.Channel).GetModelAsync(new GetModelRequest { Model = "cnn:7" });
        Assert.Equal(["inside", "outside"], registered.Labels);
        Assert.Equal(("stretch", 1f, "logits"), (registered.Preprocessing.Resize, registered.Preprocessing.Scale, registered.Preprocessing.Output));
        Assert.Equal("region CNN", registered.Description);

        Assert.Equal(0, await LanternCli.RunAsync(["models", "rm", "cnn:7", "--gateway", gateway]));
        Assert.Equal(1, await LanternCli.RunAsync(["models", "show", "cnn:7", "--gateway", gateway])); // NOT_FOUND: exit code 1
        Assert.Empty((await new ModelsClient(node.Client.Channel).ListModelsAsync(new ListModelsRequest())).Models);
        Assert.Equal(2, await LanternCli.RunAsync(["models", "push", Path.Combine(_directory, "absent.onnx"), "--name", "x", "--version", "1",
            "--gateway", gateway]));
    }

    [Fact]
    public async Task On_a_node_that_needs_keys_models_commands_send_the_api_key_and_the_model_is_the_teams()
    {
        await using var node = await TestNode.StartAsync(gateway: new GatewayOptions { RequireApiKey = true });
        var alice = (await node.Users.AddUserAsync("alice", "vision", admin: false)).ApiKey;
        var carol = (await node.Users.AddUserAsync("carol", "audio", admin: false)).ApiKey;
        var gateway = node.Address.ToString();
        var (model, _) = WriteModelAndLabels();

        Assert.Equal(1, await LanternCli.RunAsync(["models", "push", model, "--name", "cnn", "--version", "1", "--gateway", gateway])); // UNAUTHENTICATED
        Assert.Equal(0, await LanternCli.RunAsync(["models", "push", model, "--name", "cnn", "--version", "1", "--gateway", gateway, "--api-key", alice]));
        Assert.Equal(0, await LanternCli.RunAsync(["models", "show", "cnn:1", "--gateway", gateway, "--api-key", alice]));
        Assert.Equal(1, await LanternCli.RunAsync(["models", "show", "cnn:1", "--gateway", gateway, "--api-key", carol])); // another team's: NOT_FOUND

        using var asAlice = node.ClientWith(alice);
        var registered = await asAlice.Models.GetModelAsync(new GetModelRequest { Model = "cnn:1" });
        Assert.Equal("cnn", registered.Name);
    }

    [Fact]
    public async Task Explain_names_a_registered_model_by_name_and_version_and_its_labels_and_preprocessing_apply()
    {
        await using var node = await TestNode.StartAsync();
        var gateway = node.Address.ToString();
        var (model, labels) = WriteModelAndLabels();
        Assert.Equal(0, await LanternCli.RunAsync(["models", "push", model, "--name", "cnn", "--version", "3", "--labels", labels,
            "--preprocessing", Preprocessing, "--gateway", gateway]));
        File.Delete(model); // the job needs only the registration
        var image = Path.Combine(_directory, "noise.png");
        File.WriteAllBytes(image, TestImages.Noise(Size, Size, seed: 4));
        var output = Path.Combine(_directory, "registered");

        Assert.Equal(0, await LanternCli.RunAsync(["explain", image, "--model", "cnn:3", "--method", "gradcam", "--classes", "0",
            "--gateway", gateway, "--out", output]));

        using var summary = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json")));
        var target = summary.RootElement.GetProperty("targets")[0];
        Assert.Equal("inside", target.GetProperty("label").GetString());
        Assert.Equal("stretch", summary.RootElement.GetProperty("model").GetProperty("preprocessing").GetProperty("resize").GetString());
        var (data, _) = Npy.Decode(File.ReadAllBytes(Path.Combine(output, "map-0.npy")));
        Assert.True(data[12 * Size + 12] > 0, "the region the model sees lights up");
        Assert.Equal(0f, data[40 * Size + 40]);

        // The registry's preprocessing replaces the request's as a whole: an option that would be dropped is refused.
        Assert.Equal(2, await LanternCli.RunAsync(["explain", image, "--model", "cnn:3", "--mean", "1,2,3", "--gateway", gateway, "--out", output]));
        Assert.Equal(1, await LanternCli.RunAsync(["explain", image, "--model", "cnn:9", "--gateway", gateway, "--out", output])); // NOT_FOUND
    }
}
