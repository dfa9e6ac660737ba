using System.Security.Cryptography;
using Grpc.Core;
using Lantern.Cli;
using Lantern.Cluster.Tests.EndToEnd;
using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Api;
using Lantern.Gateway.Hosting;
using Lantern.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Lantern.Cluster.Tests.Datasets;

/// <summary><c>lantern datasets create|list|show|rm</c> against a node's gateway, as a user runs them, checked over gRPC.</summary>
[Collection(CommandLineCollection.Name)]
public sealed class DatasetsCommandTests
{
    private readonly string _directory = Directory.CreateTempSubdirectory("lantern-datasets-").FullName;

    /// <summary>Four 24×24 noise PNGs a–d, a text file the dataset must leave out, and a label CSV (d unlabelled).</summary>
    private (string Images, string Labels) WriteImagesAndLabels()
    {
        var images = Directory.CreateDirectory(Path.Combine(_directory, "images")).FullName;
        foreach (var (name, seed) in new[] { ("a.png", 1), ("b.png", 2), ("c.png", 3), ("d.png", 4) })
            File.WriteAllBytes(Path.Combine(images, name), TestImages.Noise(24, 24, seed));
        File.WriteAllText(Path.Combine(images, "notes.txt"), "not an image");
        var labels = Path.Combine(_directory, "labels.csv");
        File.WriteAllLines(labels, ["file,label", "a.png,cat", "b.png,\"dog, small\"", " c.png , cat "]);
        return (images, labels);
    }

    private static string Sha256Of(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    private static async Task<List<DatasetEntry>> AllEntriesAsync(Contracts.Api.Datasets.DatasetsClient client, string reference, int pageSize)
    {
        var entries = new List<DatasetEntry>();
        var request = new GetDatasetRequest { Dataset = reference, PageSize = pageSize };
        while (true)
        {
            var page = await client.GetDatasetAsync(request);
            entries.AddRange(page.Entries);
            if (page.NextPageToken.Length == 0) return entries;
            request.PageToken = page.NextPageToken;
        }
    }

    [Fact]
    public async Task Create_records_a_directorys_images_with_their_labels_list_and_show_read_it_and_rm_removes_it()
    {
        await using var node = await TestNode.StartAsync();
        var gateway = node.Address.ToString();
        var (images, labels) = WriteImagesAndLabels();

        Assert.Equal(0, await LanternCli.RunAsync(["datasets", "create", "pets", images, "--labels", labels, "--gateway", gateway]));

        var datasets = node.Client.Datasets;
        var pets = await datasets.GetDatasetAsync(new GetDatasetRequest { Dataset = "pets", PageSize = 3 });
        Assert.Equal(("pets", 1, 4, 3, ""), (pets.Name, pets.Version, pets.ImageCount, pets.LabelledCount, pets.Team));
        Assert.Equal(3, pets.Entries.Count);
        Assert.Equal("3", pets.NextPageToken);
        var entries = await AllEntriesAsync(datasets, "pets:1", pageSize: 3);
        Assert.Equal(["a.png", "b.png", "c.png", "d.png"], entries.Select(e => e.FileName));
        Assert.Equal(["cat", "dog, small", "cat", ""], entries.Select(e => e.Label));
        Assert.Equal(entries.Select(e => Sha256Of(Path.Combine(images, e.FileName))), entries.Select(e => e.ImageSha256));
        // The images are the cluster's: a job can read them by hash.
        var store = node.Services.GetRequiredService<IArtifactStore>();
        foreach (var entry in entries) Assert.True(await store.ExistsAsync(entry.ImageSha256), entry.FileName);

        Assert.Equal(0, await LanternCli.RunAsync(["datasets", "list", "--gateway", gateway]));
        Assert.Equal(0, await LanternCli.RunAsync(["datasets", "show", "pets:1", "--gateway", gateway]));
        Assert.Equal(0, await LanternCli.RunAsync(["datasets", "create", "two", Path.Combine(images, "?.png"), "--gateway", gateway]));
        Assert.Equal(4, (await datasets.GetDatasetAsync(new GetDatasetRequest { Dataset = "two" })).ImageCount);
        Assert.Equal(["pets:1", "two:1"],
            (await datasets.ListDatasetsAsync(new ListDatasetsRequest())).Datasets.Select(d => $"{d.Name}:{d.Version}"));

        Assert.Equal(0, await LanternCli.RunAsync(["datasets", "rm", "pets:1", "--gateway", gateway]));
        Assert.Equal(1, await LanternCli.RunAsync(["datasets", "show", "pets", "--gateway", gateway])); // NOT_FOUND: exit code 1
        Assert.Equal(1, await LanternCli.RunAsync(["datasets", "rm", "pets", "--gateway", gateway]));
        Assert.Equal(["two"], (await datasets.ListDatasetsAsync(new ListDatasetsRequest())).Datasets.Select(d => d.Name));
        Assert.Equal(2, await LanternCli.RunAsync(["datasets", "create", "x", Path.Combine(_directory, "absent"), "--gateway", gateway]));
    }

    [Fact]
    public async Task A_second_create_with_the_same_files_uploads_nothing_and_keeps_the_version_and_a_changed_file_makes_version_2()
    {
        await using var node = await TestNode.StartAsync(gateway: new GatewayOptions { RequireApiKey = true });
        var alice = (await node.Users.AddUserAsync("alice", "vision", admin: false)).ApiKey;
        var gateway = node.Address.ToString();
        var (images, labels) = WriteImagesAndLabels();
        string[] create = ["datasets", "create", "pets", images, "--labels", labels, "--gateway", gateway, "--api-key", alice];

        Assert.Equal(0, await LanternCli.RunAsync(create));
        var uploaded = await node.Users.UploadedTodayAsync("alice");
        Assert.Equal(Directory.GetFiles(images, "*.png").Sum(f => new FileInfo(f).Length), uploaded);

        Assert.Equal(0, await LanternCli.RunAsync(create));
        Assert.Equal(uploaded, await node.Users.UploadedTodayAsync("alice"));
        using var asAlice = node.ClientWith(alice);
        Assert.Equal(["pets:1"], (await asAlice.Datasets.ListDatasetsAsync(new ListDatasetsRequest())).Datasets.Select(d => $"{d.Name}:{d.Version}"));

        var changed = Path.Combine(images, "c.png");
        var before = Sha256Of(changed);
        File.WriteAllBytes(changed, TestImages.Noise(24, 24, seed: 30));
        Assert.Equal(0, await LanternCli.RunAsync(create));

        Assert.Equal(uploaded + new FileInfo(changed).Length, await node.Users.UploadedTodayAsync("alice")); // only the changed file
        var latest = await asAlice.Datasets.GetDatasetAsync(new GetDatasetRequest { Dataset = "pets" });
        Assert.Equal(("vision", 2), (latest.Team, latest.Version));
        Assert.Equal(Sha256Of(changed), latest.Entries[2].ImageSha256);
        Assert.Equal(before, (await asAlice.Datasets.GetDatasetAsync(new GetDatasetRequest { Dataset = "pets:1" })).Entries[2].ImageSha256);

        // The same files with other labels are other contents too.
        File.WriteAllLines(labels, ["d.png,cat"]);
        Assert.Equal(0, await LanternCli.RunAsync(create));
        var relabelled = await asAlice.Datasets.GetDatasetAsync(new GetDatasetRequest { Dataset = "pets" });
        Assert.Equal((3, 1), (relabelled.Version, relabelled.LabelledCount));
    }

    [Fact]
    public async Task Another_teams_key_gets_NOT_FOUND_for_the_dataset_and_cannot_name_its_images()
    {
        await using var node = await TestNode.StartAsync(gateway: new GatewayOptions { RequireApiKey = true });
        var alice = (await node.Users.AddUserAsync("alice", "vision", admin: false)).ApiKey;
        var bob = (await node.Users.AddUserAsync("bob", "vision", admin: false)).ApiKey;
        var carol = (await node.Users.AddUserAsync("carol", "audio", admin: false)).ApiKey;
        var gateway = node.Address.ToString();
        var (images, labels) = WriteImagesAndLabels();

        Assert.Equal(1, await LanternCli.RunAsync(["datasets", "create", "pets", images, "--gateway", gateway])); // UNAUTHENTICATED
        Assert.Equal(0, await LanternCli.RunAsync(["datasets", "create", "pets", images, "--labels", labels, "--gateway", gateway, "--api-key", alice]));
        Assert.Equal(1, await LanternCli.RunAsync(["datasets", "show", "pets", "--gateway", gateway, "--api-key", carol]));
        Assert.Equal(1, await LanternCli.RunAsync(["datasets", "rm", "pets", "--gateway", gateway, "--api-key", carol]));

        using var asCarol = node.ClientWith(carol);
        foreach (var reference in new[] { "pets", "pets:1" })
        {
            await FailsWith(StatusCode.NotFound, () => asCarol.Datasets.GetDatasetAsync(new GetDatasetRequest { Dataset = reference }).ResponseAsync);
            await FailsWith(StatusCode.NotFound, () => asCarol.Datasets.DeleteDatasetAsync(new DeleteDatasetRequest { Dataset = reference }).ResponseAsync);
        }
        Assert.Empty((await asCarol.Datasets.ListDatasetsAsync(new ListDatasetsRequest())).Datasets);
        // Knowing the hashes grants nothing: they are not "held" for carol, and a dataset cannot name them.
        using var asBob = node.ClientWith(bob);
        var hashes = (await asBob.Datasets.GetDatasetAsync(new GetDatasetRequest { Dataset = "pets" })).Entries.Select(e => e.ImageSha256).ToList();
        Assert.Equal(4, hashes.Count);
        Assert.Equal(hashes.Order(), (await asBob.Datasets.FindImagesAsync(new FindImagesRequest { Sha256 = { hashes } })).Present.Order());
        Assert.Empty((await asCarol.Datasets.FindImagesAsync(new FindImagesRequest { Sha256 = { hashes } })).Present);
        await FailsWith(StatusCode.NotFound, () => asCarol.Datasets.CreateDatasetAsync(new CreateDatasetRequest
        {
            Name = "stolen", Entries = { new DatasetEntry { ImageSha256 = hashes[0], FileName = "a.png" } },
        }).ResponseAsync);

        // Carol's own dataset of the same name uploads the bytes for her team and leaves the vision team's alone.
        Assert.Equal(0, await LanternCli.RunAsync(["datasets", "create", "pets", images, "--gateway", gateway, "--api-key", carol]));
        Assert.True(await node.Users.UploadedTodayAsync("carol") > 0);
        var carols = await asCarol.Datasets.GetDatasetAsync(new GetDatasetRequest { Dataset = "pets" });
        Assert.Equal(("audio", 1, 0), (carols.Team, carols.Version, carols.LabelledCount));
        Assert.Equal(3, (await asBob.Datasets.GetDatasetAsync(new GetDatasetRequest { Dataset = "pets" })).LabelledCount);
    }

    [Fact]
    public async Task Bad_names_labels_and_label_csvs_are_refused_and_nothing_is_recorded()
    {
        await using var node = await TestNode.StartAsync();
        var gateway = node.Address.ToString();
        var (images, labels) = WriteImagesAndLabels();
        var datasets = node.Client.Datasets;
        var sha = (await node.Client.UploadImageAsync(TestImages.Noise(8, 8), "x.png")).Sha256;

        CreateDatasetRequest One(string name = "ok", string fileName = "x.png", string label = "", string? image = null) =>
            new() { Name = name, Entries = { new DatasetEntry { ImageSha256 = image ?? sha, FileName = fileName, Label = label } } };
        foreach (var bad in new[]
                 {
                     One(name: ""), One(name: "has space"), One(name: "-dash"), One(name: new string('a', 65)), One(name: "a:1"),
                     One(label: "two\nlines"), One(label: "tab\there"), One(label: new string('l', 129)), One(label: " padded"),
                     One(fileName: ""), One(fileName: "../up.png"), One(fileName: "dir/x.png"), One(fileName: ".."),
                     One(image: "abc"), One(image: sha.ToUpperInvariant()), new CreateDatasetRequest { Name = "empty" },
                     new CreateDatasetRequest
                     {
                         Name = "twice",
                         Entries = { new DatasetEntry { ImageSha256 = sha, FileName = "x.png" }, new DatasetEntry { ImageSha256 = sha, FileName = "x.png" } },
                     },
                 })
            await FailsWith(StatusCode.InvalidArgument, () => datasets.CreateDatasetAsync(bad).ResponseAsync);
        await FailsWith(StatusCode.NotFound, () => datasets.CreateDatasetAsync(One(image: new string('0', 64))).ResponseAsync);
        foreach (var reference in new[] { "ok:0", "ok:-1", "ok:x", "ok:", ":1", "" })
            await FailsWith(StatusCode.InvalidArgument, () => datasets.GetDatasetAsync(new GetDatasetRequest { Dataset = reference }).ResponseAsync);
        await FailsWith(StatusCode.InvalidArgument, () => datasets.GetDatasetAsync(new GetDatasetRequest { Dataset = "ok", PageSize = -1 }).ResponseAsync);
        await FailsWith(StatusCode.InvalidArgument, () => datasets.FindImagesAsync(new FindImagesRequest { Sha256 = { "nothex" } }).ResponseAsync);

        // Label CSVs the command reads wrong are refused before anything is sent (exit 2); a label the gateway refuses, exit 1.
        foreach (var csv in new[] { "e.png,cat", "a.png,cat,extra", "a.png,cat\na.png,dog", "a.png,\"unterminated" })
        {
            File.WriteAllText(labels, csv);
            Assert.Equal(2, await LanternCli.RunAsync(["datasets", "create", "pets", images, "--labels", labels, "--gateway", gateway]));
        }
        File.WriteAllText(labels, "a.png,\"tab\there\"");
        Assert.Equal(1, await LanternCli.RunAsync(["datasets", "create", "pets", images, "--labels", labels, "--gateway", gateway]));
        Assert.Equal(1, await LanternCli.RunAsync(["datasets", "create", "no space", images, "--gateway", gateway]));

        Assert.Empty((await datasets.ListDatasetsAsync(new ListDatasetsRequest())).Datasets);
    }

    [Fact]
    public async Task Without_a_gateway_datasets_live_in_the_local_database_that_a_node_on_it_serves()
    {
        var database = TestNode.TempDatabase();
        var (images, labels) = WriteImagesAndLabels();

        Assert.Equal(0, await LanternCli.RunAsync(["datasets", "create", "pets", images, "--labels", labels, "--db", database]));
        Assert.Equal(0, await LanternCli.RunAsync(["datasets", "create", "pets", images, "--labels", labels, "--db", database]));
        Assert.Equal(0, await LanternCli.RunAsync(["datasets", "show", "pets:1", "--db", database]));

        await using var node = await TestNode.StartAsync(new TestDatabase(database));
        var pets = await node.Client.Datasets.GetDatasetAsync(new GetDatasetRequest { Dataset = "pets" });
        Assert.Equal((1, 4, 3), (pets.Version, pets.ImageCount, pets.LabelledCount));
        Assert.True(await node.Services.GetRequiredService<IArtifactStore>().ExistsAsync(pets.Entries[0].ImageSha256));
    }

    private static async Task FailsWith(StatusCode code, Func<Task> call)
    {
        var error = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal(code, error.StatusCode);
    }

    [Fact]
    public async Task Explain_with_a_dataset_writes_each_images_maps_under_its_name_and_an_index_of_their_top_classes()
    {
        await using var node = await TestNode.StartAsync();
        var gateway = node.Address.ToString();
        var images = Directory.CreateDirectory(Path.Combine(_directory, "halves")).FullName;
        File.WriteAllBytes(Path.Combine(images, "left.png"), DatasetJobTests.HalfBright(left: true, seed: 1));
        File.WriteAllBytes(Path.Combine(images, "right.png"), DatasetJobTests.HalfBright(left: false, seed: 2));
        File.WriteAllBytes(Path.Combine(images, "right.jpg"), DatasetJobTests.HalfBright(left: false, seed: 3)); // same stem as right.png
        var labels = Path.Combine(_directory, "halves.csv");
        File.WriteAllLines(labels, ["file,label", "left.png,0", "right.png,1", "right.jpg,1"]);
        var model = Path.Combine(_directory, "halves.onnx");
        File.WriteAllBytes(model, DatasetJobTests.Model);
        var output = Path.Combine(_directory, "out");
        Assert.Equal(0, await LanternCli.RunAsync(["datasets", "create", "halves", images, "--labels", labels, "--gateway", gateway]));

        Assert.Equal(0, await LanternCli.RunAsync(["explain", "--dataset", "halves", "--model", model, "--method", "occlusion",
            "--window", "8", "--stride", "4", "--gateway", gateway, "--out", output]));

        var rows = File.ReadAllLines(Path.Combine(output, "index.csv"));
        Assert.Equal(string.Join(',', Lantern.Cli.Client.DatasetResults.CsvColumns), rows[0]);
        var byFile = rows.Skip(1).Select(r => r.Split(',')).ToDictionary(r => r[1]);
        Assert.Equal(["left.png", "right.jpg", "right.png"], byFile.Keys.Order());
        foreach (var (file, row) in byFile)
        {
            Assert.Equal(("done", "true"), (row[3], row[7]));        // state; the label is the top class
            var folder = row[12];
            Assert.Equal(file == "left.png" ? "left" : file, folder); // the stem, unless two files share it
            var jobId = row[13];
            var result = await node.Api.GetResultAsync(new GetResultRequest { JobId = jobId });
            var map = Assert.Single(result.Maps);
            var npy = File.ReadAllBytes(Path.Combine(output, folder, $"map-{map.TargetClass}.npy"));
            Assert.Equal(map.Data.ToByteArray(), npy[^map.Data.Length..]); // the .npy's data is the job's map
            Assert.True(File.Exists(Path.Combine(output, folder, $"overlay-{map.TargetClass}.png")));
            Assert.True(File.Exists(Path.Combine(output, folder, "summary.json")));
        }
        Assert.True(File.Exists(Path.Combine(output, "index.json")));

        // An image and a dataset at once is refused before anything runs (exit 2), as is neither.
        Assert.Equal(2, await LanternCli.RunAsync(["explain", Path.Combine(images, "left.png"), "--dataset", "halves", "--model", model, "--gateway", gateway]));
        Assert.Equal(2, await LanternCli.RunAsync(["explain", "--model", model, "--gateway", gateway]));
    }

    private const int LeftCnnSize = 32;

    /// <summary>A CNN that sees only the left half of a 32×32 image (<see cref="SyntheticModels.RegionCnn"/>), written to a file.</summary>
    private string WriteLeftCnn()
    {
        var model = Path.Combine(_directory, "left.onnx");
        File.WriteAllBytes(model, SyntheticModels.RegionCnn(LeftCnnSize, LeftCnnSize, (0, 0, LeftCnnSize / 2, LeftCnnSize)));
        return model;
    }

    [Fact]
    public async Task Max_activating_ranks_a_datasets_images_by_a_class_score_and_draws_the_highest_and_lowest()
    {
        // Class 0 of this CNN grows with the brightness of the image's left half, and only of it.
        const int size = LeftCnnSize;
        var model = WriteLeftCnn();
        var images = Directory.CreateDirectory(Path.Combine(_directory, "mixed")).FullName;
        string[] bright = ["b1.png", "b2.png", "b3.png"];
        string[] dark = ["d1.png", "d2.png", "d3.png"];
        var seed = 0;
        foreach (var (file, left) in new[] { (dark[0], false), (bright[0], true), (dark[1], false), (bright[1], true), (dark[2], false), (bright[2], true) })
            File.WriteAllBytes(Path.Combine(images, file), DatasetJobTests.HalfBright(left, ++seed));
        await using var node = await TestNode.StartAsync();
        var gateway = node.Address.ToString();
        var output = Path.Combine(_directory, "ranked");
        Assert.Equal(0, await LanternCli.RunAsync(["datasets", "create", "mixed", images, "--gateway", gateway]));

        Assert.Equal(0, await LanternCli.RunAsync(["explain", "--dataset", "mixed", "--model", model, "--method", "max-activating",
            "--classes", "0", "--top", "3", "--input-size", "32x32", "--resize", "stretch", "--gateway", gateway, "--out", output]));

        var ranking = File.ReadAllLines(Path.Combine(output, "ranking-0.csv"));
        Assert.Equal(string.Join(',', Lantern.Cli.Client.DatasetResults.RankingColumns), ranking[0]);
        var files = ranking.Skip(1).Select(r => r.Split(',')[1]).ToList();
        Assert.Equal(bright.Order(), files.Take(3).Order());  // the images bright where class 0 looks, and only they, rank first
        Assert.Equal(dark.Order(), files.Skip(3).Order());
        var scores = ranking.Skip(1).Select(r => float.Parse(r.Split(',')[3], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(scores.OrderDescending(), scores);
        foreach (var picture in new[] { "max-activating-0.png", "min-activating-0.png" })
        {
            var info = SixLabors.ImageSharp.Image.Identify(Path.Combine(output, picture));
            Assert.True(info.Width > 3 * size && info.Height > size, $"{picture} is {info.Width}x{info.Height}");
        }
        Assert.True(File.Exists(Path.Combine(output, "b1", "map-0.npy"))); // each image's Grad-CAM map

        // By a channel of the feature layer instead: channel 0's weights are all positive, so it too is highest on the bright images.
        var byChannel = Path.Combine(_directory, "by-channel");
        Assert.Equal(0, await LanternCli.RunAsync(["explain", "--dataset", "mixed", "--model", model, "--method", "max-activating",
            "--channel", $"{SyntheticModels.FeatureLayer}:0", "--top", "3", "--input-size", "32x32", "--resize", "stretch", "--gateway", gateway,
            "--out", byChannel]));
        var channelRanking = File.ReadAllLines(Path.Combine(byChannel, "ranking-channel-0.csv")).Skip(1).Select(r => r.Split(',')[1]).ToList();
        Assert.Equal(bright.Order(), channelRanking.Take(3).Order());
        Assert.True(File.Exists(Path.Combine(byChannel, "max-activating-channel-0.png")));
        Assert.True(File.Exists(Path.Combine(byChannel, "min-activating-channel-0.png")));

        // --method max-activating needs a dataset and classes; refused before anything runs.
        Assert.Equal(2, await LanternCli.RunAsync(["explain", "--dataset", "mixed", "--model", model, "--method", "max-activating", "--gateway", gateway]));
    }

    [Fact]
    public async Task Tsne_lays_out_a_datasets_images_by_their_pooled_activations_with_the_two_kinds_apart_and_the_same_seed_the_same()
    {
        // The CNN's feature layer sees only the left half: images bright there and images dark there are two clusters.
        var model = WriteLeftCnn();
        var images = Directory.CreateDirectory(Path.Combine(_directory, "two-kinds")).FullName;
        var labels = Path.Combine(_directory, "two-kinds.csv");
        var rows = new List<string> { "file,label" };
        for (var i = 0; i < 8; i++)
        {
            var bright = i % 2 == 0;
            File.WriteAllBytes(Path.Combine(images, $"i{i}.png"), DatasetJobTests.HalfBright(bright, seed: 50 + i));
            rows.Add($"i{i}.png,{(bright ? "bright" : "dark")}");
        }
        File.WriteAllLines(labels, rows);
        await using var node = await TestNode.StartAsync();
        var gateway = node.Address.ToString();
        var output = Path.Combine(_directory, "tsne");
        Assert.Equal(0, await LanternCli.RunAsync(["datasets", "create", "kinds", images, "--labels", labels, "--gateway", gateway]));

        Assert.Equal(0, await LanternCli.RunAsync(["explain", "--dataset", "kinds", "--model", model, "--method", "tsne",
            "--layer", SyntheticModels.FeatureLayer, "--perplexity", "2", "--seed", "3", "--input-size", "32x32", "--resize", "stretch",
            "--gateway", gateway, "--out", output]));

        var points = File.ReadAllLines(Path.Combine(output, "tsne.csv")).Skip(1).Select(r => r.Split(','))
            .Select(r => (Label: r[2], X: double.Parse(r[5], System.Globalization.CultureInfo.InvariantCulture),
                Y: double.Parse(r[6], System.Globalization.CultureInfo.InvariantCulture))).ToList();
        Assert.Equal(8, points.Count);
        foreach (var p in points)
        {
            var nearest = points.Where(q => q != p).MinBy(q => Math.Pow(p.X - q.X, 2) + Math.Pow(p.Y - q.Y, 2));
            Assert.Equal(p.Label, nearest.Label);
        }
        var npy = Lantern.Imaging.Npy.Decode(File.ReadAllBytes(Path.Combine(output, "tsne.npy")));
        Assert.Equal([8, 2], npy.Shape);
        Assert.Equal((float)points[3].Y, npy.Data[7]);
        Assert.True(File.Exists(Path.Combine(output, "tsne.png")));

        // The embedding is a function of the job and the options: asked again, the same floats.
        var jobId = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "index.json"))).RootElement.GetProperty("job_id").GetString();
        var again = await node.Api.GetResultAsync(new GetResultRequest { JobId = jobId, TsnePerplexity = 2 });
        Assert.Equal(points.Select(p => (float)p.X), again.Embedding.X);
        Assert.Equal(3UL, again.Embedding.Seed);
        Assert.Equal(4, again.Embedding.Dimensions); // the feature layer's channels

        // tsne needs a dataset; --perplexity needs tsne.
        Assert.Equal(2, await LanternCli.RunAsync(["explain", Path.Combine(images, "i0.png"), "--model", model, "--method", "tsne", "--gateway", gateway]));
        Assert.Equal(2, await LanternCli.RunAsync(["explain", "--dataset", "kinds", "--model", model, "--perplexity", "3", "--gateway", gateway]));
    }
}
