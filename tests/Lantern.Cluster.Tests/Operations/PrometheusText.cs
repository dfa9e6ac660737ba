using System.Globalization;

namespace Lantern.Cluster.Tests.Operations;

/// <summary>Reads samples out of the Prometheus text exposition format a node serves.</summary>
public static class PrometheusText
{
    /// <summary>
    /// The sum of every sample of <paramref name="metric"/> whose labels include all of <paramref name="labels"/>
    /// (<c>key="value"</c> pairs); null when the metric has no such sample.
    /// </summary>
    public static double? Sum(string text, string metric, params string[] labels)
    {
        double? sum = null;
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith('#') || !line.StartsWith(metric, StringComparison.Ordinal)) continue;
            var rest = line[metric.Length..];
            if (rest.Length == 0 || (rest[0] != ' ' && rest[0] != '{')) continue; // a longer name (…_total, …_bucket)
            var labelText = rest[0] == '{' ? rest[1..rest.IndexOf('}', StringComparison.Ordinal)] : "";
            if (!labels.All(l => labelText.Split(',').Contains(l))) continue;
            var value = rest[(rest.LastIndexOf(' ') + 1)..];
            sum = (sum ?? 0) + double.Parse(value, CultureInfo.InvariantCulture);
        }
        return sum;
    }
}
