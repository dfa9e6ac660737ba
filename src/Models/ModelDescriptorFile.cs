using System.Text.Json;
using System.Text.Json.Serialization;

namespace Lantern.Models;

/// <summary>
/// Reads and writes <see cref="ModelDescriptor"/> JSON: for <c>dir/name.onnx</c> the file <c>dir/name.json</c>,
/// snake_case property names, every property optional (missing ones take <see cref="ModelDescriptor.Default"/>).
/// </summary>
public static class ModelDescriptorFile
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        WriteIndented = true,
    };

    public static string PathBeside(string modelPath) => Path.ChangeExtension(modelPath, ".json");

    /// <summary>The descriptor beside the model, or null when there is none.</summary>
    /// <exception cref="InvalidModelException">The file exists but is not a valid descriptor; the message names the file.</exception>
    public static ModelDescriptor? LoadBeside(string modelPath)
    {
        var path = PathBeside(modelPath);
        if (!File.Exists(path)) return null;
        try
        {
            return Parse(File.ReadAllText(path));
        }
        catch (InvalidModelException e)
        {
            throw new InvalidModelException($"{path}: {e.Message}");
        }
    }

    /// <exception cref="InvalidModelException">Malformed JSON or an out-of-range value. Unknown properties (credits, notes) are ignored.</exception>
    public static ModelDescriptor Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        Dto? dto;
        try
        {
            dto = JsonSerializer.Deserialize<Dto>(json, Options);
        }
        catch (JsonException e)
        {
            throw new InvalidModelException($"the model descriptor is not valid JSON for a descriptor: {e.Message}");
        }
        if (dto is null) throw new InvalidModelException("the model descriptor is null; expected a JSON object");
        return Validate(dto);
    }

    public static string ToJson(ModelDescriptor descriptor)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        var dto = new Dto
        {
            InputSize = descriptor.InputSize,
            Resize = descriptor.Resize,
            ResizeShorterSide = descriptor.ResizeShorterSide,
            ChannelOrder = descriptor.ChannelOrder,
            Layout = descriptor.Layout,
            Scale = descriptor.Scale,
            Mean = descriptor.Mean,
            Std = descriptor.Std,
            Output = descriptor.Output,
            Labels = descriptor.Labels,
        };
        return JsonSerializer.Serialize(dto, Options);
    }

    /// <summary>The lines of the labels file the descriptor names (relative to the JSON beside the model), or null when it names none.</summary>
    /// <exception cref="InvalidModelException">The descriptor names a labels file that does not exist.</exception>
    public static string[]? LoadLabels(string modelPath, ModelDescriptor descriptor)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        if (string.IsNullOrWhiteSpace(descriptor.Labels)) return null;
        var dir = Path.GetDirectoryName(Path.GetFullPath(PathBeside(modelPath))) ?? ".";
        var path = Path.GetFullPath(Path.Combine(dir, descriptor.Labels));
        if (!File.Exists(path))
        {
            throw new InvalidModelException(
                $"{PathBeside(modelPath)}: the labels file '{descriptor.Labels}' ({path}) does not exist");
        }
        return File.ReadAllLines(path);
    }

    private static ModelDescriptor Validate(Dto dto)
    {
        var d = ModelDescriptor.Default;

        if (dto.InputSize is { } size && (size.Length != 2 || size[0] <= 0 || size[1] <= 0))
            throw new InvalidModelException("input_size must be [height, width] with two positive numbers");

        var resize = OneOf("resize", dto.Resize ?? d.Resize, ModelDescriptor.ResizeShorterSideCrop, ModelDescriptor.ResizeStretch);

        // Keep the ImageNet 256/224 ratio when only the crop size is given, so a 299 input is not cropped
        // out of a 256 resize.
        var shorterSide = dto.ResizeShorterSide
            ?? (dto.InputSize is { } s ? (int)Math.Round(Math.Min(s[0], s[1]) * 256.0 / 224.0) : d.ResizeShorterSide);
        if (shorterSide <= 0) throw new InvalidModelException("resize_shorter_side must be positive");
        if (resize == ModelDescriptor.ResizeShorterSideCrop && dto.InputSize is { } crop && shorterSide < Math.Min(crop[0], crop[1]))
        {
            throw new InvalidModelException(
                $"resize_shorter_side {shorterSide} is smaller than the input size {crop[0]}x{crop[1]}; the centre crop would not fit");
        }

        var channelOrder = OneOf("channel_order", dto.ChannelOrder ?? d.ChannelOrder, ModelDescriptor.Rgb, ModelDescriptor.Bgr);
        var layout = dto.Layout is null ? null : OneOf("layout", dto.Layout, ModelDescriptor.Nchw, ModelDescriptor.Nhwc);
        var output = OneOf("output", dto.Output ?? d.Output, ModelDescriptor.Logits, ModelDescriptor.Probabilities);

        var scale = dto.Scale ?? d.Scale;
        if (!float.IsFinite(scale) || scale == 0) throw new InvalidModelException("scale must be a finite non-zero number");

        var mean = dto.Mean ?? d.Mean;
        if (mean.Length != 3 || mean.Any(m => !float.IsFinite(m)))
            throw new InvalidModelException("mean must hold three finite numbers, one per channel");
        var std = dto.Std ?? d.Std;
        if (std.Length != 3 || std.Any(v => !float.IsFinite(v) || v == 0))
            throw new InvalidModelException("std must hold three finite non-zero numbers, one per channel");

        return new ModelDescriptor(dto.InputSize, resize, shorterSide, channelOrder, layout, scale,
            [.. mean], [.. std], output, string.IsNullOrWhiteSpace(dto.Labels) ? null : dto.Labels);
    }

    private static string OneOf(string property, string value, params string[] allowed)
    {
        var v = value.Trim().ToLowerInvariant();
        return allowed.Contains(v)
            ? v
            : throw new InvalidModelException($"{property} must be one of {string.Join(", ", allowed.Select(a => $"\"{a}\""))}, not \"{value}\"");
    }

    private sealed class Dto
    {
        public int[]? InputSize { get; set; }
        public string? Resize { get; set; }
        public int? ResizeShorterSide { get; set; }
        public string? ChannelOrder { get; set; }
        public string? Layout { get; set; }
        public float? Scale { get; set; }
        public float[]? Mean { get; set; }
        public float[]? Std { get; set; }
        public string? Output { get; set; }
        public string? Labels { get; set; }
    }
}
