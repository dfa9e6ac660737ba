using System.Data.Common;

namespace Lantern.Storage.Users;

/// <summary>
/// Users, API key hashes, quota overrides, artifact grants, daily upload counts and job ownership, in the node's own
/// database (the SQLite file or PostgreSQL database that holds the job journal). Every gateway of a cluster shares it,
/// and the gateway looks a key up here on every call: revoking a key is one row update that every gateway sees at
/// once, with no cache to invalidate. The SQL is the subset SQLite and PostgreSQL share, so one class serves both.
/// </summary>
public sealed class UserStore : IDisposable
{
    private readonly SqlConnections _connections;

    private UserStore(SqlConnections connections)
    {
        _connections = connections;
        CreateTables();
    }

    public static UserStore Sqlite(string connectionString) => new(SqlConnections.Sqlite(connectionString));

    public static UserStore Postgres(string connectionString) => new(SqlConnections.Postgres(connectionString));

    private void CreateTables()
    {
        string[] tables =
        [
            """
            CREATE TABLE IF NOT EXISTS lantern_users (
                name text PRIMARY KEY, team text NOT NULL, admin bigint NOT NULL, key_hash text NOT NULL UNIQUE,
                revoked bigint NOT NULL, created_unix_ms bigint NOT NULL)
            """,
            """
            CREATE TABLE IF NOT EXISTS lantern_quotas (
                scope text NOT NULL, name text NOT NULL, quota text NOT NULL, value bigint NOT NULL,
                PRIMARY KEY (scope, name, quota))
            """,
            """
            CREATE TABLE IF NOT EXISTS lantern_grants (
                sha256 text NOT NULL, user_name text NOT NULL, team text NOT NULL, created_unix_ms bigint NOT NULL,
                PRIMARY KEY (sha256, user_name))
            """,
            """
            CREATE TABLE IF NOT EXISTS lantern_uploads (
                user_name text NOT NULL, day bigint NOT NULL, bytes bigint NOT NULL, PRIMARY KEY (user_name, day))
            """,
            """
            CREATE TABLE IF NOT EXISTS lantern_job_owners (
                job_id text PRIMARY KEY, owner text NOT NULL, team text NOT NULL, evaluations bigint NOT NULL,
                submitted_unix_ms bigint NOT NULL, finished bigint NOT NULL)
            """,
        ];
        _connections.CreateTables(tables);
    }

    // ---- users ----

    /// <exception cref="UserExistsException">The name is taken.</exception>
    public async Task<NewUser> AddUserAsync(string name, string team, bool admin, CancellationToken cancellationToken = default)
    {
        var key = ApiKeys.New();
        var user = new User(name, team, admin, Revoked: false, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var inserted = await ExecuteAsync("""
            INSERT INTO lantern_users (name, team, admin, key_hash, revoked, created_unix_ms)
            VALUES (@name, @team, @admin, @hash, 0, @now) ON CONFLICT (name) DO NOTHING
            """, cancellationToken, ("name", name), ("team", team), ("admin", admin ? 1L : 0L), ("hash", ApiKeys.Hash(key)),
            ("now", user.CreatedUnixMs));
        if (inserted == 0) throw new UserExistsException(name);
        return new NewUser(user, key);
    }

    /// <returns>The key's user, revoked or not; null when no user has that key.</returns>
    public async Task<User?> FindByKeyAsync(string key, CancellationToken cancellationToken = default) =>
        (await QueryAsync("SELECT name, team, admin, revoked, created_unix_ms FROM lantern_users WHERE key_hash = @hash",
            ReadUser, cancellationToken, ("hash", ApiKeys.Hash(key)))).FirstOrDefault();

    public async Task<User?> FindAsync(string name, CancellationToken cancellationToken = default) =>
        (await QueryAsync("SELECT name, team, admin, revoked, created_unix_ms FROM lantern_users WHERE name = @name",
            ReadUser, cancellationToken, ("name", name))).FirstOrDefault();

    public Task<IReadOnlyList<User>> ListUsersAsync(CancellationToken cancellationToken = default) =>
        QueryAsync("SELECT name, team, admin, revoked, created_unix_ms FROM lantern_users ORDER BY name", ReadUser, cancellationToken);

    /// <returns>False when there is no such user.</returns>
    public async Task<bool> RevokeAsync(string name, CancellationToken cancellationToken = default) =>
        await ExecuteAsync("UPDATE lantern_users SET revoked = 1 WHERE name = @name", cancellationToken, ("name", name)) > 0;

    private static User ReadUser(DbDataReader r) =>
        new(r.GetString(0), r.GetString(1), Convert.ToInt64(r.GetValue(2)) != 0, Convert.ToInt64(r.GetValue(3)) != 0, Convert.ToInt64(r.GetValue(4)));

    // ---- quotas ----

    /// <summary>Sets (value ≥ 0) or clears (null) one quota of a user or a team.</summary>
    public Task SetQuotaAsync(QuotaScope scope, string name, string quota, long? value, CancellationToken cancellationToken = default) =>
        value is { } v
            ? ExecuteAsync("""
                INSERT INTO lantern_quotas (scope, name, quota, value) VALUES (@scope, @name, @quota, @value)
                ON CONFLICT (scope, name, quota) DO UPDATE SET value = excluded.value
                """, cancellationToken, ("scope", ScopeName(scope)), ("name", name), ("quota", quota), ("value", v))
            : ExecuteAsync("DELETE FROM lantern_quotas WHERE scope = @scope AND name = @name AND quota = @quota",
                cancellationToken, ("scope", ScopeName(scope)), ("name", name), ("quota", quota));

    /// <summary>The overrides that apply to a user: their own and their team's.</summary>
    public Task<IReadOnlyList<QuotaOverride>> QuotasAsync(string user, string team, CancellationToken cancellationToken = default) =>
        QueryAsync("""
            SELECT scope, name, quota, value FROM lantern_quotas
            WHERE (scope = 'user' AND name = @user) OR (scope = 'team' AND name = @team)
            """, r => new QuotaOverride(r.GetString(0) == "user" ? QuotaScope.User : QuotaScope.Team, r.GetString(1), r.GetString(2),
            Convert.ToInt64(r.GetValue(3))), cancellationToken, ("user", user), ("team", team));

    private static string ScopeName(QuotaScope scope) => scope == QuotaScope.User ? "user" : "team";

    // ---- artifact grants ----

    /// <summary>Records that this user (and so their team) uploaded the artifact's bytes.</summary>
    public Task GrantAsync(string sha256, string user, string team, CancellationToken cancellationToken = default) =>
        ExecuteAsync("""
            INSERT INTO lantern_grants (sha256, user_name, team, created_unix_ms) VALUES (@sha, @user, @team, @now)
            ON CONFLICT (sha256, user_name) DO NOTHING
            """, cancellationToken, ("sha", sha256), ("user", user), ("team", team), ("now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));

    /// <summary>True when the user, or anyone in their team, uploaded the artifact.</summary>
    public async Task<bool> MayUseAsync(string sha256, string user, string team, CancellationToken cancellationToken = default) =>
        (await QueryAsync("SELECT 1 FROM lantern_grants WHERE sha256 = @sha AND (user_name = @user OR team = @team)",
            r => true, cancellationToken, ("sha", sha256), ("user", user), ("team", team))).Count > 0;

    // ---- daily upload bytes ----

    public async Task<long> UploadedTodayAsync(string user, CancellationToken cancellationToken = default) =>
        (await QueryAsync("SELECT bytes FROM lantern_uploads WHERE user_name = @user AND day = @day",
            r => Convert.ToInt64(r.GetValue(0)), cancellationToken, ("user", user), ("day", Today()))).FirstOrDefault();

    public Task AddUploadedAsync(string user, long bytes, CancellationToken cancellationToken = default) =>
        ExecuteAsync("""
            INSERT INTO lantern_uploads (user_name, day, bytes) VALUES (@user, @day, @bytes)
            ON CONFLICT (user_name, day) DO UPDATE SET bytes = lantern_uploads.bytes + excluded.bytes
            """, cancellationToken, ("user", user), ("day", Today()), ("bytes", bytes));

    private static long Today() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 86_400_000;

    // ---- job ownership ----

    public Task RecordJobAsync(OwnedJob job, CancellationToken cancellationToken = default) =>
        ExecuteAsync("""
            INSERT INTO lantern_job_owners (job_id, owner, team, evaluations, submitted_unix_ms, finished)
            VALUES (@id, @owner, @team, @evaluations, @submitted, 0) ON CONFLICT (job_id) DO NOTHING
            """, cancellationToken, ("id", job.JobId), ("owner", job.Owner), ("team", job.Team), ("evaluations", job.Evaluations),
            ("submitted", job.SubmittedUnixMs));

    public async Task<OwnedJob?> JobAsync(string jobId, CancellationToken cancellationToken = default) =>
        (await QueryAsync($"{SelectJobs} WHERE job_id = @id", ReadJob, cancellationToken, ("id", jobId))).FirstOrDefault();

    /// <summary>The user's jobs not yet seen to end (the gateway asks their entities and marks those that have).</summary>
    public Task<IReadOnlyList<OwnedJob>> UnfinishedJobsAsync(string owner, CancellationToken cancellationToken = default) =>
        QueryAsync($"{SelectJobs} WHERE owner = @owner AND finished = 0", ReadJob, cancellationToken, ("owner", owner));

    /// <summary>Ids of the jobs a user may see: their own and their team's.</summary>
    public async Task<IReadOnlySet<string>> VisibleJobIdsAsync(string owner, string team, CancellationToken cancellationToken = default) =>
        (await QueryAsync("SELECT job_id FROM lantern_job_owners WHERE owner = @owner OR (team = @team AND team <> '')",
            r => r.GetString(0), cancellationToken, ("owner", owner), ("team", team))).ToHashSet();

    public Task MarkFinishedAsync(string jobId, CancellationToken cancellationToken = default) =>
        ExecuteAsync("UPDATE lantern_job_owners SET finished = 1 WHERE job_id = @id", cancellationToken, ("id", jobId));

    public Task ForgetJobAsync(string jobId, CancellationToken cancellationToken = default) =>
        ExecuteAsync("DELETE FROM lantern_job_owners WHERE job_id = @id", cancellationToken, ("id", jobId));

    private const string SelectJobs = "SELECT job_id, owner, team, evaluations, submitted_unix_ms, finished FROM lantern_job_owners";

    private static OwnedJob ReadJob(DbDataReader r) => new(r.GetString(0), r.GetString(1), r.GetString(2),
        Convert.ToInt64(r.GetValue(3)), Convert.ToInt64(r.GetValue(4)), Convert.ToInt64(r.GetValue(5)) != 0);

    // ---- plumbing ----

    private async Task<int> ExecuteAsync(string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var connection = await _connections.OpenAsync(cancellationToken);
        await using var command = Command(connection, sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task<IReadOnlyList<T>> QueryAsync<T>(string sql, Func<DbDataReader, T> read, CancellationToken cancellationToken,
        params (string Name, object Value)[] parameters)
    {
        await using var connection = await _connections.OpenAsync(cancellationToken);
        await using var command = Command(connection, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken)) rows.Add(read(reader));
        return rows;
    }

    private static DbCommand Command(DbConnection connection, string sql, (string Name, object Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }
        return command;
    }

    public void Dispose() => _connections.Dispose();
}
