using Lantern.Cluster.Tests.Support;
using Lantern.Storage.Users;

namespace Lantern.Cluster.Tests.Storage;

/// <summary>The user store's contract (keys, revocation, quotas, grants, daily uploads), run on SQLite and PostgreSQL.</summary>
public abstract class UserStoreTests
{
    protected abstract Task<UserStore> NewStoreAsync();

    [Fact]
    public async Task A_new_users_key_finds_them_until_revoked_and_a_second_user_of_that_name_is_refused()
    {
        var store = await NewStoreAsync();

        var alice = await store.AddUserAsync("alice", "vision", admin: false);
        var found = await store.FindByKeyAsync(alice.ApiKey);
        await Assert.ThrowsAsync<UserExistsException>(() => store.AddUserAsync("alice", "other", admin: true));
        Assert.True(await store.RevokeAsync("alice"));

        Assert.True(ApiKeys.IsWellFormed(alice.ApiKey));
        Assert.Equal(("alice", "vision", false, false), (found!.Name, found.Team, found.Admin, found.Revoked));
        Assert.True((await store.FindByKeyAsync(alice.ApiKey))!.Revoked);
        Assert.Null(await store.FindByKeyAsync(ApiKeys.New()));
        Assert.False(await store.RevokeAsync("nobody"));
    }

    [Fact]
    public async Task Quotas_of_a_user_and_their_team_are_both_returned_and_cleared_by_null()
    {
        var store = await NewStoreAsync();
        await store.AddUserAsync("bob", "vision", admin: false);

        await store.SetQuotaAsync(QuotaScope.Team, "vision", "concurrent_jobs", 3);
        await store.SetQuotaAsync(QuotaScope.User, "bob", "concurrent_jobs", 5);
        await store.SetQuotaAsync(QuotaScope.User, "bob", "concurrent_jobs", 6);
        await store.SetQuotaAsync(QuotaScope.User, "bob", "model_bytes", 10);
        await store.SetQuotaAsync(QuotaScope.User, "bob", "model_bytes", null);

        var quotas = await store.QuotasAsync("bob", "vision");
        Assert.Equal(
            [new QuotaOverride(QuotaScope.Team, "vision", "concurrent_jobs", 3), new QuotaOverride(QuotaScope.User, "bob", "concurrent_jobs", 6)],
            quotas.OrderBy(q => q.Scope == QuotaScope.User));
    }

    [Fact]
    public async Task A_grant_covers_the_uploader_and_their_team_and_nobody_else()
    {
        var store = await NewStoreAsync();
        var sha = new string('a', 64);

        await store.GrantAsync(sha, "alice", "vision");
        await store.GrantAsync(sha, "alice", "vision");

        Assert.True(await store.MayUseAsync(sha, "alice", "vision"));
        Assert.True(await store.MayUseAsync(sha, "bob", "vision"));
        Assert.False(await store.MayUseAsync(sha, "carol", "audio"));
        Assert.False(await store.MayUseAsync(new string('b', 64), "alice", "vision"));
    }

    [Fact]
    public async Task Uploaded_bytes_add_up_per_user_per_day()
    {
        var store = await NewStoreAsync();

        await store.AddUploadedAsync("alice", 100);
        await store.AddUploadedAsync("alice", 23);

        Assert.Equal(123, await store.UploadedTodayAsync("alice"));
        Assert.Equal(0, await store.UploadedTodayAsync("bob"));
    }
}

public sealed class SqliteUserStoreTests : UserStoreTests
{
    protected override Task<UserStore> NewStoreAsync() => Task.FromResult(UserStore.Sqlite($"Data Source={TestNode.TempDatabase()}"));
}

[Collection(PostgresServer.Collection)]
public sealed class PostgresUserStoreTests(PostgresServer server) : UserStoreTests, IDisposable
{
    private readonly List<UserStore> _stores = [];

    protected override async Task<UserStore> NewStoreAsync()
    {
        var store = UserStore.Postgres(await server.CreateDatabaseAsync());
        _stores.Add(store);
        return store;
    }

    public void Dispose() => _stores.ForEach(store => store.Dispose());
}
