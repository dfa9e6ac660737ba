using System.Runtime.InteropServices;
using Lantern.Contracts.Api;
using Lantern.Imaging;

namespace Lantern.Cli.Client;

/// <summary>
/// Writes a job's result as files: summary.json, map-&lt;class&gt;.npy and overlay-&lt;class&gt;.png per target, and for
/// multi-scale jobs map-&lt;class&gt;-w&lt;size&gt;.npy (and overlay) per scale.
/// </summary>
public static class ResultWriter
{
    public static IReadOnlyList<string> Write(JobResult result, string directory)
    {
        Directory.CreateDirectory(directory);
        var written = new List<string>();
        foreach (var map in result.Maps)
        {
            var stem = map.Window == 0 ? $"{map.TargetClass}" : $"{map.TargetClass}-w{map.Window}";
            var values = MemoryMarshal.Cast<byte, float>(map.Data.Span);
            written.Add(WriteFile(directory, $"map-{stem}.npy", Npy.Encode(values, map.Height, map.Width)));
            if (!map.OverlayPng.IsEmpty) written.Add(WriteFile(directory, $"overlay-{stem}.png", map.OverlayPng.ToByteArray()));
        }
        written.Insert(0, WriteFile(directory, "summary.json", System.Text.Encoding.UTF8.GetBytes(result.SummaryJson)));
        return written;
    }

    private static string WriteFile(string directory, string name, byte[] bytes)
    {
        var path = Path.Combine(directory, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
