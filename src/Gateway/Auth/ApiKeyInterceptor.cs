using Grpc.Core;
using Grpc.Core.Interceptors;
using Lantern.Gateway.Hosting;
using Lantern.Storage.Users;
using Microsoft.Extensions.DependencyInjection;

namespace Lantern.Gateway.Auth;

/// <summary>
/// Every call to the Lantern and Admin services carries <c>authorization: Bearer KEY</c>; the key is looked up in
/// the node's database on every call (one indexed row by hash), so a key revoked on any gateway is refused by every
/// gateway from the next call on. Health checks and reflection stay open: they reveal nothing a client could not
/// read in the published .proto files. On an open node (<see cref="GatewayOptions.RequireApiKey"/> off) every
/// caller is <see cref="Caller.Open"/>.
/// </summary>
public sealed class ApiKeyInterceptor(GatewayOptions options, IServiceProvider services) : Interceptor
{
    private const string Scheme = "Bearer ";

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        await AuthenticateAsync(context);
        return await continuation(request, context);
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await AuthenticateAsync(context);
        return await continuation(requestStream, context);
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await AuthenticateAsync(context);
        await continuation(request, responseStream, context);
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await AuthenticateAsync(context);
        await continuation(requestStream, responseStream, context);
    }

    private async Task AuthenticateAsync(ServerCallContext context)
    {
        if (!options.RequireApiKey || context.Method.StartsWith("/grpc.", StringComparison.Ordinal)) return;
        var header = context.RequestHeaders.GetValue("authorization");
        if (header is null)
            throw Unauthenticated("this gateway needs an API key: send the metadata 'authorization: Bearer KEY' (CLI: --api-key or LANTERN_API_KEY)");
        if (!header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) || !ApiKeys.IsWellFormed(header[Scheme.Length..].Trim()))
            throw Unauthenticated("the authorization metadata is not 'Bearer KEY' with a Lantern API key (lnt_ and 43 characters)");
        var users = services.GetService<UserStore>()
                    ?? throw Unauthenticated("this node has no user database (no gateway role); call a gateway node");
        var user = await users.FindByKeyAsync(header[Scheme.Length..].Trim(), context.CancellationToken);
        if (user is null) throw Unauthenticated("the API key is not known here; ask an admin for a key (lantern users add)");
        if (user.Revoked) throw Unauthenticated($"the API key of '{user.Name}' was revoked; ask an admin for a new one");
        context.UserState[CallerContext.Key] = Caller.Of(user);
    }

    private static RpcException Unauthenticated(string message) => new(new Status(StatusCode.Unauthenticated, message));
}
