using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;

namespace Lantern.Cli.Client;

/// <summary>
/// A gRPC connection to a running gateway for the job commands (<c>lantern jobs …</c>, <c>lantern result</c>): every call
/// carries <c>authorization: Bearer KEY</c> when a key is given, so the gateway's access rules decide what the user sees.
/// </summary>
public sealed class GatewayConnection : IDisposable
{
    private readonly GrpcChannel _channel;

    public GatewayConnection(Uri gateway, string? apiKey, string? caCertificate = null)
    {
        _channel = GrpcChannels.For(gateway, caCertificate);
        CallInvoker invoker = _channel.CreateCallInvoker();
        if (!string.IsNullOrEmpty(apiKey))
            invoker = invoker.Intercept(metadata =>
            {
                metadata.Add("authorization", $"Bearer {apiKey}");
                return metadata;
            });
        Api = new Contracts.Api.Lantern.LanternClient(invoker);
    }

    public Contracts.Api.Lantern.LanternClient Api { get; }

    public void Dispose() => _channel.Dispose();
}
