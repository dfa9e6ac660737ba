using Lantern.Cli;
using Lantern.Cluster.Tests.EndToEnd;
using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Api;
using ModelsClient = Lantern.Contracts.Api.Models.ModelsClient;

namespace Lantern.Cluster.Tests.Registry;

/// <summary><c>lantern models push|list|show|rm</c> against a node's gateway, as a user runs them.</summary>
[Collection(CommandLineCollection.Name)]
public sealed class ModelsCommandTests
{
    private const int Size = 48;
    private readonly string _directory = Directory.CreateTempSubdirectory("lantern-models-").FullName;

    [Fact]
    public async Task Push_registers_the_file_with_its_labels_and_preprocessing_show_and_list_read_it_and_rm_removes_it()
    {
        await using var node = await TestNode.StartAsync();
        var gateway = node.Address.ToString();
        var model = Path.Combine(_directory, "cnn.onnx");
        File.WriteAllBytes(model, SyntheticModels.RegionCnn(Size, Size, (8, 8, 16, 16)));
        var labels = Path.Combine(_directory, "labels.txt");
        File.WriteAllLines(labels, ["inside", "outside"]);
        const string preprocessing = """{ "resize": "stretch", "scale": 1, "mean": [0, 0, 0], "std": [1, 1, 1], "output": "logits" }""";

        Assert.Equal(0, await LanternCli.RunAsync(["models", "push", model, "--name", "cnn", "--version", "7", "--labels", labels,
            "--preprocessing", preprocessing, "--description", "region CNN", "--gateway", gateway]));
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
}
