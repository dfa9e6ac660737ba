namespace Lantern.Storage.Users;

/// <summary>A user of a shared cluster: a name, the team whose jobs and artifacts they share, and whether they administer.</summary>
public sealed record User(string Name, string Team, bool Admin, bool Revoked, long CreatedUnixMs);

/// <summary>A quota set for one user or one whole team (<see cref="QuotaScope"/>); unset quotas take the node's defaults.</summary>
public sealed record QuotaOverride(QuotaScope Scope, string Name, string Quota, long Value);

public enum QuotaScope { User, Team }

/// <summary>A job as the gateway recorded it at submission: who owns it, what it asked for, and whether it has ended.</summary>
public sealed record OwnedJob(string JobId, string Owner, string Team, long Evaluations, long SubmittedUnixMs, bool Finished);

/// <summary>A user added: their record and the API key, which exists nowhere else once handed out.</summary>
public sealed record NewUser(User User, string ApiKey);

public sealed class UserExistsException(string name) : Exception($"a user named '{name}' already exists");
