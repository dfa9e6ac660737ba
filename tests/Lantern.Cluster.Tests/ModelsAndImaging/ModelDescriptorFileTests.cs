using Lantern.Cluster.Tests.Synthetic;
using Lantern.Models;

namespace Lantern.Cluster.Tests.ModelsAndImaging;

public sealed class ModelDescriptorFileTests
{
    [Fact]
    public void An_empty_descriptor_is_the_ImageNet_default()
    {
        Assert.Equal(ModelDescriptor.Default, ModelDescriptorFile.Parse("{}"));
    }

    [Fact]
    public void The_squeezenet_Caffe_preprocessing_reads_from_snake_case_json()
    {
        var d = ModelDescriptorFile.Parse("""
            {"input_size": [224, 224], "resize": "stretch", "channel_order": "bgr", "layout": "nchw", "scale": 1,
             "mean": [104, 117, 123], "std": [1, 1, 1], "output": "probabilities", "labels": "imagenet_labels.txt"}
            """);

        Assert.Equal(new ModelDescriptor([224, 224], "stretch", 256, "bgr", "nchw", 1f, [104f, 117f, 123f], [1f, 1f, 1f],
            "probabilities", "imagenet_labels.txt"), d);
    }

    [Fact]
    public void A_descriptor_survives_a_json_round_trip()
    {
        var d = ModelDescriptor.Default with { InputSize = [299, 299], ResizeShorterSide = 342, Labels = "labels.txt" };

        Assert.Equal(d, ModelDescriptorFile.Parse(ModelDescriptorFile.ToJson(d)));
        Assert.Contains("\"resize_shorter_side\": 342", ModelDescriptorFile.ToJson(d));
    }

    [Fact]
    public void A_larger_input_size_keeps_the_256_to_224_resize_ratio()
    {
        Assert.Equal(342, ModelDescriptorFile.Parse("""{"input_size": [299, 299]}""").ResizeShorterSide);
    }

    [Theory]
    [InlineData("""{"resize": "squash"}""", "resize")]
    [InlineData("""{"mean": [1, 2]}""", "mean")]
    [InlineData("""{"std": [1, 0, 1]}""", "std")]
    [InlineData("""{"input_size": [224]}""", "input_size")]
    [InlineData("""{"layout": "chwn"}""", "layout")]
    [InlineData("""{"scale": "big"}""", "not valid JSON")]
    [InlineData("""not json""", "not valid JSON")]
    public void A_bad_descriptor_names_what_is_wrong(string json, string expected)
    {
        var e = Assert.Throws<InvalidModelException>(() => ModelDescriptorFile.Parse(json));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void The_descriptor_and_its_labels_load_from_beside_the_model()
    {
        var dir = Directory.CreateTempSubdirectory("lantern-descriptor-");
        try
        {
            var model = Path.Combine(dir.FullName, "net.onnx");
            Assert.Null(ModelDescriptorFile.LoadBeside(model));
            Assert.Equal(Path.Combine(dir.FullName, "net.json"), ModelDescriptorFile.PathBeside(model));

            File.Copy(SharedData.Model("imagenet_labels.txt"), Path.Combine(dir.FullName, "labels.txt"));
            File.WriteAllText(ModelDescriptorFile.PathBeside(model), """{"labels": "labels.txt"}""");
            var d = ModelDescriptorFile.LoadBeside(model)!;
            var labels = ModelDescriptorFile.LoadLabels(model, d)!;

            Assert.Equal(1000, labels.Length);
            Assert.Contains("golden retriever", labels[207]);
            Assert.Null(ModelDescriptorFile.LoadLabels(model, ModelDescriptor.Default));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void A_broken_descriptor_beside_the_model_is_reported_with_its_path()
    {
        var dir = Directory.CreateTempSubdirectory("lantern-descriptor-");
        try
        {
            var model = Path.Combine(dir.FullName, "net.onnx");
            File.WriteAllText(ModelDescriptorFile.PathBeside(model), "{\"channel_order\": ");

            var e = Assert.Throws<InvalidModelException>(() => ModelDescriptorFile.LoadBeside(model));
            Assert.Contains(ModelDescriptorFile.PathBeside(model), e.Message);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
