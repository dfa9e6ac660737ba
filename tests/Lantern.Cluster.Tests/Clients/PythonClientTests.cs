using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using Lantern.Cli;
using Lantern.Cluster.Tests.EndToEnd;
using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Imaging;

namespace Lantern.Cluster.Tests.Clients;

/// <summary>
/// The Python client (clients/python, package lantern_client) against a live node, run by python3 with Debian's
/// python3-grpcio, python3-protobuf and python3-numpy (.ci/run installs them): the same job through the client and
/// through `lantern explain --gateway` gives the same map bit for bit.
/// </summary>
[Collection(CommandLineCollection.Name)]
public sealed class PythonClientTests
{
    private const int Size = 48;
    private readonly string _directory = Directory.CreateTempSubdirectory("lantern-python-").FullName;

    // What a Python user writes; argv: address, model, image, output directory, a large image for a long job.
    private const string Script = """
        import json, sys
        import numpy as np
        from lantern_client import Client

        address, model, image, out, big_image = sys.argv[1:6]
        client = Client(address)
        occlusion = client.explain(image, model=model, method="occlusion", window=12, stride=6, classes=[0])
        np.save(out + "/occlusion-0.npy", occlusion.maps[0])
        # The gateway holds the model and the image now: explaining them again sends neither (uploading would fail here).
        def refuse(*args, **kwargs):
            raise AssertionError("uploaded a file the gateway holds")
        uploads = client.stub.UploadModel, client.stub.UploadImage
        client.stub.UploadModel = client.stub.UploadImage = refuse
        again = client.explain(image, model=model, method="occlusion", window=12, stride=6, classes=[0])
        np.save(out + "/again-0.npy", again.maps[0])
        client.stub.UploadModel, client.stub.UploadImage = uploads
        # The same pixels as a numpy array (the client sends them as a lossless PNG).
        pixels = np.fromfile(image + ".rgb", dtype=np.uint8).reshape(48, 48, 3)
        from_array = client.explain(pixels, model=model, method="occlusion", window=12, stride=6, classes=[0])
        np.save(out + "/array-0.npy", from_array.maps[0])
        lime = client.explain(image, model=model, method="lime", samples=200, seed=7, segmentation="grid", segments=16, classes=[0])
        np.save(out + "/lime-0.npy", lime.maps[0])
        np.save(out + "/lime-mask-0.npy", lime.masks[0])
        # A long job, cancelled at once: watch ends with its final state.
        long_job = client.submit(big_image, model=model, method="occlusion", window=2, stride=1, classes=[0])
        client.cancel(long_job)
        final = client.watch(long_job, progress=False)
        listed = [j.job_id for j in client.jobs(page_size=2)]
        pictures = client.result(occlusion.job_id, overlays=True, colormap="viridis").overlays
        # A deep dream of class 0 (the bright square at (8,8) 12x12): an RGB image, brightest in the square.
        dream = client.explain(image, model=model, method="deep-dream", classes=[0], octaves=1, iterations=10, seed=3).dreams[0]
        square = dream[8:20, 8:20].mean()
        rest = (dream.sum() - dream[8:20, 8:20].sum()) / (dream.size - dream[8:20, 8:20].size)
        json.dump({"occlusion_job": occlusion.job_id, "label": occlusion.summary["targets"][0]["label"],
                   "dtype": str(occlusion.maps[0].dtype), "long_job": long_job, "long_state": int(final.state),
                   "listed": listed, "overlay_is_png": pictures["overlay-0.png"][:4] == b"\x89PNG",
                   "dream_shape": list(dream.shape), "dream_square": float(square), "dream_rest": float(rest)}, open(out + "/report.json", "w"))
        """;

    // A dataset made and explained from Python; argv: address, model, output directory. The model's class 0 is the mean
    // brightness of the square at (8,8) 12×12, so the two images with a white square there rank above the two with a black one.
    private const string DatasetScript = """
        import json, os, sys
        import numpy as np
        from lantern_client import Client, encode_png

        address, model, out = sys.argv[1:4]
        images = os.path.join(out, "images")
        os.makedirs(images)
        rng = np.random.default_rng(5)
        for name, square in (("bright-a.png", 255), ("dark-a.png", 0), ("bright-b.png", 255), ("dark-b.png", 0)):
            pixels = rng.integers(0, 256, size=(48, 48, 3), dtype=np.uint8)
            pixels[8:20, 8:20, :] = square
            open(os.path.join(images, name), "wb").write(encode_png(pixels))
        open(os.path.join(out, "labels.csv"), "w").write("file,label\nbright-a.png,bright\nbright-b.png,bright\ndark-a.png,dark\n")
        client = Client(address)
        created = client.create_dataset("squares", images, labels=os.path.join(out, "labels.csv"))
        again = client.create_dataset("squares", images, labels=os.path.join(out, "labels.csv"))
        result = client.explain_dataset("squares", model=model, method="occlusion", window=12, stride=6, classes=[0])
        for image in result.images:
            np.save(os.path.join(out, "dataset-" + image.file_name + ".npy"), client.result(image.job_id).maps[0])
        single = client.explain(os.path.join(images, "dark-a.png"), model=model, method="occlusion", window=12, stride=6, classes=[0])
        np.save(os.path.join(out, "single-dark-a.png.npy"), single.maps[0])
        json.dump({"version": created.version, "created": created.created, "again_version": again.version,
                   "again_created": again.created, "labelled": created.labelled_count,
                   "names": [i.file_name for i in result.images], "labels": [i.label for i in result.images],
                   "ranking": [name for name, _ in result.ranking(0)],
                   "datasets": [f"{d.name}:{d.version}" for d in client.datasets()],
                   "entries": [e.file_name for e in client.dataset_entries("squares:1")]}, open(out + "/report.json", "w"))
        """;

    [Fact]
    public async Task The_python_client_makes_a_dataset_and_explains_it_with_each_images_map_equal_to_its_own_jobs()
    {
        var model = WriteSquareModel();
        await using var node = await TestNode.StartAsync();
        var output = Directory.CreateDirectory(Path.Combine(_directory, "python-dataset")).FullName;
        await RunPythonAsync(DatasetScript, node.Address.ToString(), model, output);

        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "report.json")));
        var root = report.RootElement;
        Assert.Equal((1, true, 3), (root.GetProperty("version").GetInt32(), root.GetProperty("created").GetBoolean(),
            root.GetProperty("labelled").GetInt32()));
        // The same files and labels again: the same version, nothing new recorded.
        Assert.Equal((1, false), (root.GetProperty("again_version").GetInt32(), root.GetProperty("again_created").GetBoolean()));
        string[] byName = ["bright-a.png", "bright-b.png", "dark-a.png", "dark-b.png"];
        Assert.Equal(byName, Strings(root, "names"));
        Assert.Equal(byName, Strings(root, "entries"));
        Assert.Equal(["bright", "bright", "dark", ""], Strings(root, "labels"));
        Assert.Equal(["squares:1"], Strings(root, "datasets"));
        Assert.Equal(["bright-a.png", "bright-b.png"], Strings(root, "ranking").Take(2).Order());
        // An image's map in the dataset job is the map of its own single-image job, bit for bit.
        AssertSameFloats(Path.Combine(output, "single-dark-a.png.npy"), Path.Combine(output, "dataset-dark-a.png.npy"));
        var (map, _) = Npy.Decode(File.ReadAllBytes(Path.Combine(output, "dataset-bright-a.png.npy")));
        Assert.True(map[10 * Size + 10] > 0, "the white square the model looks at lights up");
    }

    // Every message field, enum value and RPC of the Python client's generated stubs, one per line.
    private const string StubsScript = """
        import sys
        from lantern_client._generated.lantern.v1 import admin_pb2, datasets_pb2, lantern_pb2, models_pb2, pictures_pb2

        names = []
        def message(m):
            names.extend(f"{m.full_name}.{f.name}" for f in m.fields)
            for e in m.enum_types: enum(e)
            for n in m.nested_types: message(n)
        def enum(e):
            names.extend(f"{e.full_name}.{v.name}" for v in e.values)
        for module in (admin_pb2, datasets_pb2, lantern_pb2, models_pb2, pictures_pb2):
            for m in module.DESCRIPTOR.message_types_by_name.values(): message(m)
            for e in module.DESCRIPTOR.enum_types_by_name.values(): enum(e)
            for s in module.DESCRIPTOR.services_by_name.values(): names.extend(f"{s.full_name}/{r.name}" for r in s.methods)
        open(sys.argv[1], "w").write("\n".join(sorted(names)))
        """;

    /// <summary>
    /// The stubs are generated by hand (clients/python/generate.sh needs protoc, which CI does not install): a field added
    /// to a .proto without regenerating them leaves the client unable to send it. Compared with the C# contracts, which
    /// the build generates from the same files.
    /// </summary>
    [Fact]
    public async Task The_python_stubs_have_every_field_and_rpc_of_the_protos()
    {
        var listing = Path.Combine(_directory, "stubs.txt");
        await RunPythonAsync(StubsScript, listing);
        var python = File.ReadAllLines(listing).ToHashSet(StringComparer.Ordinal);

        var expected = new List<string>();
        void Message(Google.Protobuf.Reflection.MessageDescriptor m)
        {
            expected.AddRange(m.Fields.InDeclarationOrder().Select(f => $"{m.FullName}.{f.Name}"));
            foreach (var e in m.EnumTypes) Enum(e);
            foreach (var n in m.NestedTypes) Message(n);
        }
        void Enum(Google.Protobuf.Reflection.EnumDescriptor e) => expected.AddRange(e.Values.Select(v => $"{e.FullName}.{v.Name}"));
        foreach (var file in new[]
                 {
                     Contracts.Api.AdminReflection.Descriptor, Contracts.Api.DatasetsReflection.Descriptor, Contracts.Api.LanternReflection.Descriptor,
                     Contracts.Api.ModelsReflection.Descriptor, Contracts.Api.PicturesReflection.Descriptor,
                 })
        {
            foreach (var m in file.MessageTypes) Message(m);
            foreach (var e in file.EnumTypes) Enum(e);
            foreach (var service in file.Services) expected.AddRange(service.Methods.Select(r => $"{service.FullName}/{r.Name}"));
        }
        var missing = expected.Where(name => !python.Contains(name)).ToList();
        Assert.True(missing.Count == 0,
            $"clients/python's stubs lack {missing.Count} of the protos' names (run clients/python/generate.sh): {string.Join(", ", missing.Take(10))}");
        Assert.Equal(expected.Count, python.Count);
    }

    private static string[] Strings(JsonElement root, string property) =>
        [.. root.GetProperty(property).EnumerateArray().Select(e => e.GetString()!)];

    /// <summary>The bright-square model with its descriptor and labels beside it, as a user keeps them.</summary>
    private string WriteSquareModel()
    {
        var model = Path.Combine(_directory, "square.onnx");
        File.WriteAllBytes(model, SyntheticModels.SquareBrightness(Size, Size, (8, 8, 12, 12)));
        File.WriteAllText(Path.ChangeExtension(model, ".json"), """
            { "resize": "stretch", "scale": 1, "mean": [0, 0, 0], "std": [1, 1, 1], "output": "logits", "labels": "labels.txt" }
            """);
        File.WriteAllLines(Path.Combine(_directory, "labels.txt"), ["bright square", "the rest"]);
        return model;
    }

    [Fact]
    public async Task The_python_client_runs_jobs_whose_maps_equal_the_cli_maps_bit_for_bit()
    {
        var model = WriteSquareModel();
        var image = Path.Combine(_directory, "noise.png");
        File.WriteAllBytes(image, TestImages.Noise(Size, Size));
        File.WriteAllBytes(image + ".rgb", ImageDecoder.Decode(File.ReadAllBytes(image)).Pixels.Select(v => (byte)v).ToArray());
        await using var node = await TestNode.StartAsync();
        var cliOcclusion = Path.Combine(_directory, "cli-occlusion");
        var cliLime = Path.Combine(_directory, "cli-lime");
        Assert.Equal(0, await LanternCli.RunAsync(
            ["explain", image, "--model", model, "--window", "12", "--stride", "6", "--classes", "0", "--out", cliOcclusion,
             "--gateway", node.Address.ToString()]));
        Assert.Equal(0, await LanternCli.RunAsync(
            ["explain", image, "--model", model, "--method", "lime", "--samples", "200", "--seed", "7", "--segmentation", "grid",
             "--segments", "16", "--classes", "0", "--out", cliLime, "--gateway", node.Address.ToString()]));

        var output = Directory.CreateDirectory(Path.Combine(_directory, "python")).FullName;
        var bigImage = Path.Combine(_directory, "big.png"); // 199² windows: still running when cancelled, even on a fast machine
        File.WriteAllBytes(bigImage, TestImages.Noise(200, 200));
        await RunPythonAsync(Script, node.Address.ToString(), model, image, output, bigImage);

        AssertSameFloats(Path.Combine(cliOcclusion, "map-0.npy"), Path.Combine(output, "occlusion-0.npy"));
        AssertSameFloats(Path.Combine(cliOcclusion, "map-0.npy"), Path.Combine(output, "again-0.npy"));
        AssertSameFloats(Path.Combine(cliOcclusion, "map-0.npy"), Path.Combine(output, "array-0.npy"));
        AssertSameFloats(Path.Combine(cliLime, "map-0.npy"), Path.Combine(output, "lime-0.npy"));
        AssertSameFloats(Path.Combine(cliLime, "mask-0.npy"), Path.Combine(output, "lime-mask-0.npy"));
        var (occlusion, _) = Npy.Decode(File.ReadAllBytes(Path.Combine(output, "occlusion-0.npy")));
        Assert.True(occlusion[10 * Size + 10] > 0, "the square the model looks at lights up");

        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "report.json")));
        var root = report.RootElement;
        Assert.Equal("bright square", root.GetProperty("label").GetString()); // the descriptor's labels went with the job
        Assert.Equal("float32", root.GetProperty("dtype").GetString());
        Assert.True(root.GetProperty("overlay_is_png").GetBoolean());
        Assert.Equal((int)Contracts.Api.JobState.Cancelled, root.GetProperty("long_state").GetInt32());
        var listed = root.GetProperty("listed").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Contains(root.GetProperty("occlusion_job").GetString(), listed);
        Assert.Contains(root.GetProperty("long_job").GetString(), listed);
        Assert.Equal([Size, Size, 3], root.GetProperty("dream_shape").EnumerateArray().Select(e => e.GetInt32()));
        Assert.True(root.GetProperty("dream_square").GetDouble() > root.GetProperty("dream_rest").GetDouble(),
            $"class 0's dream: square {root.GetProperty("dream_square")}, rest {root.GetProperty("dream_rest")}");
    }

    private static void AssertSameFloats(string expectedNpy, string actualNpy)
    {
        var (expected, expectedShape) = Npy.Decode(File.ReadAllBytes(expectedNpy));
        var (actual, actualShape) = Npy.Decode(File.ReadAllBytes(actualNpy));
        Assert.Equal(expectedShape, actualShape);
        Assert.Equal(MemoryMarshal.AsBytes(expected.AsSpan()).ToArray(), MemoryMarshal.AsBytes(actual.AsSpan()).ToArray());
    }

    private async Task RunPythonAsync(string source, params string[] args)
    {
        var script = Path.Combine(_directory, $"client_job_{Guid.NewGuid():N}.py");
        await File.WriteAllTextAsync(script, source);
        var start = new ProcessStartInfo(PythonWithGrpc())
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        start.ArgumentList.Add(script);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["PYTHONPATH"] = Path.Combine(RepositoryRoot(), "clients", "python");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var hang = new CancellationTokenSource(TimeSpan.FromMinutes(3)); // a guard against a hung client, not a timing check
        await process.WaitForExitAsync(hang.Token);
        Assert.True(process.ExitCode == 0, $"python3 exited {process.ExitCode}:\n{await stdout}\n{await stderr}");
    }

    /// <summary>Debian's /usr/bin/python3 (where apt puts python3-grpcio) before whatever python3 is first on PATH.</summary>
    private static string PythonWithGrpc()
    {
        foreach (var candidate in new[] { "/usr/bin/python3", "python3" })
        {
            try
            {
                using var probe = Process.Start(new ProcessStartInfo(candidate, ["-c", "import grpc, google.protobuf, numpy"])
                {
                    RedirectStandardError = true, UseShellExecute = false,
                })!;
                probe.WaitForExit();
                if (probe.ExitCode == 0) return candidate;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // not installed: try the next
            }
        }
        throw new InvalidOperationException(
            "no python3 with grpc, protobuf and numpy: apt-get install python3-grpcio python3-protobuf python3-numpy (.ci/run does)");
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Cluster.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"no Cluster.sln above {AppContext.BaseDirectory}");
    }
}
