using System.Security.Cryptography.X509Certificates;
using Akka.Event;
using Akka.Remote.Hosting;
using Akka.Remote.Transport.DotNetty;

namespace Lantern.Host.Security;

/// <summary>
/// Akka.Remote's DotNetty transport with mutual TLS: both ends of every cluster connection present a certificate, and
/// each end accepts the other's only if it chains to the cluster CA. Host names are not checked: nodes reach each other
/// by pod or container IPs that change, and membership in the cluster is what the CA vouches for.
/// </summary>
public static class ClusterTls
{
    public static RemoteOptions Remoting(string host, int port, ClusterTlsOptions? tls)
    {
        var remote = new RemoteOptions { HostName = host, Port = port };
        if (tls is null) return remote;
        remote.EnableSsl = true;
        remote.Ssl = new SslOptions
        {
            X509Certificate = LoadNodeCertificate(tls),
            SuppressValidation = false,
            RequireMutualAuthentication = true,
            ValidateCertificateHostname = false,
            CustomValidator = TrustOnly(LoadAuthorities(tls.AuthorityPath)),
        };
        return remote;
    }

    public static X509Certificate2 LoadNodeCertificate(ClusterTlsOptions tls)
    {
        var certificate = X509CertificateLoader.LoadPkcs12FromFile(tls.CertificatePath, tls.Password);
        if (!certificate.HasPrivateKey)
            throw new ArgumentException($"{tls.CertificatePath} holds no private key; a cluster node needs its own key");
        return certificate;
    }

    public static X509Certificate2Collection LoadAuthorities(string path)
    {
        var authorities = new X509Certificate2Collection();
        authorities.ImportFromPemFile(path);
        if (authorities.Count == 0) throw new ArgumentException($"{path} holds no PEM certificate");
        return authorities;
    }

    /// <summary>Accepts a peer certificate only when it chains to one of <paramref name="authorities"/> (and is in date).</summary>
    public static CertificateValidationCallback TrustOnly(X509Certificate2Collection authorities) =>
        (certificate, _, remotePeer, _, log) =>
        {
            if (certificate is null)
            {
                log.Warning("Refused cluster peer {0}: it presented no certificate", remotePeer);
                return false;
            }
            if (ChainsTo(certificate, authorities)) return true;
            log.Warning("Refused cluster peer {0}: its certificate {1} is not signed by the cluster CA", remotePeer, certificate.Subject);
            return false;
        };

    public static bool ChainsTo(X509Certificate2 certificate, X509Certificate2Collection authorities)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck; // a private CA publishes no revocation list
        return chain.Build(certificate);
    }
}
