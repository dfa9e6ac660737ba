using System.Security.Cryptography.X509Certificates;
using Grpc.Net.Client;
using Lantern.Host.Security;

namespace Lantern.Cli.Client;

/// <summary>
/// Channels to a gateway: h2c for http://, TLS for https://, where <c>caCertificate</c> (a PEM file) names the only CA
/// the gateway's certificate may chain to (a gateway serving <c>lantern certs</c> output); null trusts the system store.
/// </summary>
public static class GrpcChannels
{
    public static GrpcChannel For(Uri gateway, string? caCertificate)
    {
        var handler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true };
        if (caCertificate is not null)
        {
            var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
            policy.CustomTrustStore.AddRange(ClusterTls.LoadAuthorities(caCertificate));
            handler.SslOptions.CertificateChainPolicy = policy; // host names are still checked
        }
        return GrpcChannel.ForAddress(gateway, new GrpcChannelOptions
        {
            HttpHandler = handler, DisposeHttpClient = true,
            MaxReceiveMessageSize = null, // a result carries every map and overlay
        });
    }
}
