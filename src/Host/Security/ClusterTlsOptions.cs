namespace Lantern.Host.Security;

/// <summary>
/// Mutual TLS on the Akka.Remote (cluster) port: this node's certificate and the cluster's CA. A peer is admitted only
/// if it presents a certificate that chains to <see cref="AuthorityPath"/>; the system trust store plays no part.
/// </summary>
public sealed record ClusterTlsOptions
{
    /// <summary>PKCS#12 file with this node's certificate and private key (what <c>lantern certs</c> writes as node.pfx).</summary>
    public required string CertificatePath { get; init; }

    /// <summary>Password of <see cref="CertificatePath"/>; null for none.</summary>
    public string? Password { get; init; }

    /// <summary>PEM file with the cluster CA certificate(s) that peers' certificates must chain to (ca.pem).</summary>
    public required string AuthorityPath { get; init; }
}
