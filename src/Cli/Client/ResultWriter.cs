using System.Runtime.InteropServices;
using Lantern.Contracts.Api;
using Lantern.Imaging;

namespace Lantern.Cli.Client;

/// <summary>
/// Writes a job's result as files: summary.json, map-&lt;class&gt;.npy and overlay-&lt;class&gt;.png per target; for
/// multi-scale jobs map-&lt;class&gt;-w&lt;size&gt;.npy (and overlay) per scale and sheet-&lt;class&gt;.png; for LIME also
/// mask-&lt;class&gt;.npy and overlay-mask-&lt;class&gt;.png (lime's hide_rest view); for deep dream dream-&lt;target&gt;.png
/// and .npy (height × width × 3, RGB in 0..1).
/// </summary>
public static class ResultWriter
{
    public static IReadOnlyList<string> Write(JobResult result, string directory)
    {
        Directory.CreateDirectory(directory);
        var written = new List<string>();
        foreach (var map in result.Maps)
        {
            var stem = (map.Window, map.Region) switch
            {
                (0, 0) => $"{map.TargetClass}",
                (0, var region) => $"{map.TargetClass}-r{region}",
                var (window, _) => $"{map.TargetClass}-w{window}",
            };
            var kind = map.Kind.Length > 0 ? map.Kind : "map"; // "mask": LIME's positive-only view
            var values = MemoryMarshal.Cast<byte, float>(map.Data.Span);
            if (kind == "dream") // deep dream: the image itself, RGB in 0..1 per pixel
            {
                written.Add(WriteFile(directory, $"dream-{stem}.png", AttributionPictures.Dream(values, map.Width, map.Height, null)));
                written.Add(WriteFile(directory, $"dream-{stem}.npy", Npy.Encode(values, [map.Height, map.Width, 3])));
                continue;
            }
            written.Add(WriteFile(directory, $"{kind}-{stem}.npy", Npy.Encode(values, map.Height, map.Width)));
            if (!map.OverlayPng.IsEmpty)
                written.Add(WriteFile(directory, kind == "map" ? $"overlay-{stem}.png" : $"overlay-{kind}-{stem}.png", map.OverlayPng.ToByteArray()));
        }
        foreach (var picture in result.Pictures) // a multi-scale job's sheet per target
            written.Add(WriteFile(directory, Path.GetFileName(picture.Name), picture.Png.ToByteArray()));
        written.Insert(0, WriteFile(directory, "summary.json", System.Text.Encoding.UTF8.GetBytes(result.SummaryJson)));
        return written;
    }

    public static string WriteFile(string directory, string name, byte[] bytes)
    {
        var path = Path.Combine(directory, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
