using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Lantern.Host.Security;

/// <summary>
/// A private CA and the certificates it signs for cluster nodes and the gRPC listener, made with
/// <see cref="CertificateRequest"/> (no openssl). Keys are ECDSA P-256; node certificates serve both TLS ends
/// (serverAuth and clientAuth), as each Akka.Remote node both accepts and opens connections.
/// </summary>
public static class ClusterCertificates
{
    public static X509Certificate2 CreateAuthority(string name, TimeSpan lifetime)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddMinutes(-5), now + lifetime);
    }

    /// <summary>A leaf certificate signed by <paramref name="authority"/> (which must hold its private key), with its own key.</summary>
    public static X509Certificate2 CreateSigned(X509Certificate2 authority, string name, IEnumerable<string> hosts, TimeSpan lifetime)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1", "serverAuth"), new Oid("1.3.6.1.5.5.7.3.2", "clientAuth")], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, true, false));
        var names = new SubjectAlternativeNameBuilder();
        foreach (var host in hosts.Append(name).Distinct())
            if (IPAddress.TryParse(host, out var ip)) names.AddIpAddress(ip);
            else names.AddDnsName(host);
        request.CertificateExtensions.Add(names.Build());
        var now = DateTimeOffset.UtcNow;
        var notAfter = now + lifetime < authority.NotAfter ? now + lifetime : authority.NotAfter.ToUniversalTime();
        using var signed = request.Create(authority, now.AddMinutes(-5), notAfter, RandomNumberGenerator.GetBytes(16));
        return signed.CopyWithPrivateKey(key);
    }

    /// <summary>PKCS#12 with the certificate, its key and the CA certificate (no CA key).</summary>
    public static byte[] ExportPfx(X509Certificate2 certificate, X509Certificate2 authority, string? password) =>
        new X509Certificate2Collection { certificate, X509CertificateLoader.LoadCertificate(authority.RawData) }
            .Export(X509ContentType.Pkcs12, password)!;

    public static string CertificatePem(X509Certificate2 certificate) => certificate.ExportCertificatePem() + "\n";

    public static string PrivateKeyPem(X509Certificate2 certificate) =>
        (certificate.GetECDsaPrivateKey() ?? throw new ArgumentException($"{certificate.Subject} has no ECDSA private key"))
        .ExportPkcs8PrivateKeyPem() + "\n";

    /// <summary>Reads back a CA written as PEM certificate and key (to sign more node certificates later).</summary>
    public static X509Certificate2 LoadAuthority(string certificatePem, string keyPem) =>
        X509Certificate2.CreateFromPemFile(certificatePem, keyPem);
}
