using System.Globalization;

namespace Lantern.Cli.Commands;

/// <summary>Durations as people write them on a command line: <c>30d</c>, <c>12h</c>, <c>90m</c>, <c>45s</c>.</summary>
public static class DurationText
{
    /// <exception cref="ArgumentException">Not a positive whole number followed by d, h, m or s.</exception>
    public static TimeSpan Parse(string text, string option)
    {
        var trimmed = text.Trim();
        if (trimmed.Length >= 2
            && long.TryParse(trimmed[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count > 0 && count <= 100_000)
        {
            switch (char.ToLowerInvariant(trimmed[^1]))
            {
                case 'd': return TimeSpan.FromDays(count);
                case 'h': return TimeSpan.FromHours(count);
                case 'm': return TimeSpan.FromMinutes(count);
                case 's': return TimeSpan.FromSeconds(count);
            }
        }
        throw new ArgumentException($"{option} '{text}' is not a duration like 30d, 12h, 90m or 45s");
    }
}
