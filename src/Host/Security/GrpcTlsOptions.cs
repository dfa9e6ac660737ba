namespace Lantern.Host.Security;

/// <summary>TLS on the gRPC listener, for deployments without a TLS-terminating ingress: a PEM certificate and its key.</summary>
public sealed record GrpcTlsOptions
{
    /// <summary>PEM certificate (chain) the listener presents (NAME.pem from <c>lantern certs</c>).</summary>
    public required string CertificatePath { get; init; }

    /// <summary>PEM private key of <see cref="CertificatePath"/> (NAME.key).</summary>
    public required string KeyPath { get; init; }
}
