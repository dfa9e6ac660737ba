using System.Collections.Immutable;

namespace Lantern.Coordinator.Dispatch;

/// <summary>
/// Weights of the dispatcher's fair share: teams share the workers in proportion to their team weights, and the users of
/// a team share the team's part in proportion to their user weights. Anyone not listed weighs 1, so by default every
/// team, and every user within a team, gets an equal share. An open node's jobs all belong to user "" of team "".
/// </summary>
public sealed record FairShareWeights
{
    public static readonly FairShareWeights Equal = new();

    public ImmutableDictionary<string, double> Users { get; init; } = ImmutableDictionary<string, double>.Empty;
    public ImmutableDictionary<string, double> Teams { get; init; } = ImmutableDictionary<string, double>.Empty;

    public double User(string owner) => Users.GetValueOrDefault(owner, 1.0);
    public double Team(string team) => Teams.GetValueOrDefault(team, 1.0);

    /// <summary>
    /// Parses <c>name=weight</c> pairs separated by commas (e.g. <c>alice=2,bob=1</c>), as <c>serve --user-weights</c> and
    /// <c>--team-weights</c> take them. A weight must be a finite number above zero (a zero weight would never be served).
    /// </summary>
    public static ImmutableDictionary<string, double> Parse(string? pairs, string option)
    {
        var weights = ImmutableDictionary.CreateBuilder<string, double>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(pairs)) return weights.ToImmutable();
        foreach (var pair in pairs.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var at = pair.LastIndexOf('=');
            if (at < 0)
                throw new ArgumentException($"{option}: '{pair}' is not name=weight (e.g. alice=2,bob=1)");
            var name = pair[..at].Trim();
            if (!double.TryParse(pair[(at + 1)..], System.Globalization.NumberStyles.Float,
                    System.Globalization.CultureInfo.InvariantCulture, out var weight) || !double.IsFinite(weight) || weight <= 0)
                throw new ArgumentException($"{option}: the weight of '{name}' must be a number above 0, got '{pair[(at + 1)..]}'");
            if (!weights.TryAdd(name, weight))
                throw new ArgumentException($"{option}: '{name}' is given twice");
        }
        return weights.ToImmutable();
    }
}
