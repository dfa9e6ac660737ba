using Grpc.Core;
using Lantern.Contracts.Api;
using Lantern.Gateway.Auth;
using Lantern.Gateway.Mapping;
using Lantern.Gateway.Quotas;
using Lantern.Storage.Users;
using ApiQuota = Lantern.Contracts.Api.Quota;

namespace Lantern.Gateway.Services;

/// <summary>Users, keys and quotas over gRPC, for admins only (what <c>lantern users … --gateway</c> calls).</summary>
public sealed class AdminService(QuotaPolicy quotas) : Admin.AdminBase
{
    public override async Task<AddUserResponse> AddUser(AddUserRequest request, ServerCallContext context)
    {
        var users = Authorize(context);
        CheckName(request.Name, "name");
        CheckName(request.Team, "team");
        try
        {
            var added = await users.AddUserAsync(request.Name, request.Team, request.Admin, context.CancellationToken);
            return new AddUserResponse { User = ToApi(added.User, []), ApiKey = added.ApiKey };
        }
        catch (UserExistsException e)
        {
            throw new RpcException(new Status(StatusCode.AlreadyExists, e.Message + "; revoke it or choose another name"));
        }
    }

    public override async Task<ListUsersResponse> ListUsers(ListUsersRequest request, ServerCallContext context)
    {
        var users = Authorize(context);
        var response = new ListUsersResponse();
        foreach (var user in await users.ListUsersAsync(context.CancellationToken))
            response.Users.Add(ToApi(user, await users.QuotasAsync(user.Name, user.Team, context.CancellationToken)));
        return response;
    }

    public override async Task<UserInfo> RevokeUser(RevokeUserRequest request, ServerCallContext context)
    {
        var users = Authorize(context);
        if (!await users.RevokeAsync(request.Name, context.CancellationToken))
            GrpcErrors.NotFound($"no user named '{Shorten(request.Name)}'");
        var user = (await users.FindAsync(request.Name, context.CancellationToken))!;
        return ToApi(user, await users.QuotasAsync(user.Name, user.Team, context.CancellationToken));
    }

    public override async Task<SetQuotaResponse> SetQuota(SetQuotaRequest request, ServerCallContext context)
    {
        var users = Authorize(context);
        CheckName(request.Name, request.Team ? "team" : "name");
        var scope = request.Team ? QuotaScope.Team : QuotaScope.User;
        if (!request.Team && await users.FindAsync(request.Name, context.CancellationToken) is null)
            GrpcErrors.NotFound($"no user named '{Shorten(request.Name)}'");
        foreach (var quota in request.Quotas)
        {
            if (!QuotaLimits.Names.Contains(quota.Name))
                GrpcErrors.InvalidArgument($"no quota named '{Shorten(quota.Name)}'; quotas: {string.Join(", ", QuotaLimits.Names)}");
            await users.SetQuotaAsync(scope, request.Name, quota.Name, quota.Value < 0 ? null : quota.Value, context.CancellationToken);
        }
        var response = new SetQuotaResponse();
        var set = await users.QuotasAsync(request.Team ? "" : request.Name, request.Team ? request.Name : "", context.CancellationToken);
        response.Quotas.Add(set.Where(q => q.Scope == scope).Select(ToApi));
        return response;
    }

    private UserStore Authorize(ServerCallContext context)
    {
        if (!context.Caller().Admin)
            throw new RpcException(new Status(StatusCode.PermissionDenied, "only an admin may manage users and quotas"));
        return quotas.Users ?? throw new RpcException(new Status(StatusCode.FailedPrecondition,
            "this node has no user database (no gateway role); call a gateway node"));
    }

    private static void CheckName(string name, string field)
    {
        if (name.Length is 0 or > 64 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            GrpcErrors.InvalidArgument($"{field} must be 1 to 64 letters, digits, '-', '_' or '.', got '{Shorten(name)}'");
    }

    private static string Shorten(string text) => text.Length <= 64 ? text : text[..64] + "…";

    private static UserInfo ToApi(User user, IReadOnlyList<QuotaOverride> quotas) => new()
    {
        Name = user.Name, Team = user.Team, Admin = user.Admin, Revoked = user.Revoked, CreatedUnixMs = user.CreatedUnixMs,
        Quotas = { quotas.Select(ToApi) },
    };

    private static ApiQuota ToApi(QuotaOverride quota) =>
        new() { Name = quota.Quota, Value = quota.Value, Scope = quota.Scope == QuotaScope.User ? "user" : "team" };
}
