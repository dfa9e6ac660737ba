using Grpc.Core;
using Lantern.Storage.Users;

namespace Lantern.Gateway.Auth;

/// <summary>
/// Who is calling: the user behind the API key, or <see cref="Open"/> on a node that runs without keys
/// (<c>serve --no-auth</c>, the local one-process cluster), where the one person using it sees everything.
/// </summary>
public sealed record Caller(string Name, string Team, bool Admin)
{
    public static Caller Open { get; } = new("", "", Admin: true);

    public bool IsOpen => Name.Length == 0;

    public static Caller Of(User user) => new(user.Name, user.Team, user.Admin);

    /// <summary>Own jobs, the team's jobs, or any job for an admin.</summary>
    public bool MaySee(OwnedJob? job) =>
        Admin || job is not null && (job.Owner == Name || Team.Length > 0 && job.Team == Team);
}

public static class CallerContext
{
    internal const string Key = "lantern.caller";

    /// <summary>The caller the <see cref="ApiKeyInterceptor"/> identified; <see cref="Caller.Open"/> when none ran.</summary>
    public static Caller Caller(this ServerCallContext context) =>
        context.UserState.TryGetValue(Key, out var caller) && caller is Caller known ? known : Auth.Caller.Open;
}
