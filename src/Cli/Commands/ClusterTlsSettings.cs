using System.CommandLine;
using Lantern.Host.Security;

namespace Lantern.Cli.Commands;

/// <summary><c>serve</c>'s mutual TLS on the cluster port; each option also reads a LANTERN_* environment variable.</summary>
public sealed class ClusterTlsSettings
{
    public Option<string?> Certificate { get; } = new("--cluster-tls-cert")
    {
        DefaultValueFactory = _ => NodeSettings.Env("LANTERN_CLUSTER_TLS_CERT"),
        Description = "PKCS#12 file (node.pfx from `lantern certs`) with this node's certificate and key: the cluster port then "
            + "speaks mutual TLS and admits only peers signed by --cluster-tls-ca (env LANTERN_CLUSTER_TLS_CERT)",
    };

    public Option<string?> Authority { get; } = new("--cluster-tls-ca")
    {
        DefaultValueFactory = _ => NodeSettings.Env("LANTERN_CLUSTER_TLS_CA"),
        Description = "PEM file with the cluster CA certificate that peers must chain to (env LANTERN_CLUSTER_TLS_CA)",
    };

    public Option<string?> PasswordFile { get; } = new("--cluster-tls-password-file")
    {
        DefaultValueFactory = _ => NodeSettings.Env("LANTERN_CLUSTER_TLS_PASSWORD_FILE"),
        Description = "File holding the --cluster-tls-cert password (or env LANTERN_CLUSTER_TLS_PASSWORD; none: no password)",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Certificate);
        command.Options.Add(Authority);
        command.Options.Add(PasswordFile);
    }

    /// <summary>The TLS settings, or null for plain TCP; throws ArgumentException when only half is given.</summary>
    public ClusterTlsOptions? Tls(ParseResult parsed)
    {
        var certificate = parsed.GetValue(Certificate);
        var authority = parsed.GetValue(Authority);
        if (certificate is null && authority is null) return null;
        if (certificate is null || authority is null)
            throw new ArgumentException("--cluster-tls-cert and --cluster-tls-ca go together: a node needs its own certificate and the CA it trusts");
        var password = parsed.GetValue(PasswordFile) is { } file
            ? File.ReadAllText(file).TrimEnd('\r', '\n')
            : NodeSettings.Env("LANTERN_CLUSTER_TLS_PASSWORD");
        var tls = new ClusterTlsOptions { CertificatePath = certificate, AuthorityPath = authority, Password = password };
        // Read now, so a wrong path or password is a usage error rather than a node that starts and cannot join.
        try
        {
            using var _ = ClusterTls.LoadNodeCertificate(tls);
            ClusterTls.LoadAuthorities(authority);
        }
        catch (Exception e) when (e is IOException or System.Security.Cryptography.CryptographicException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"cluster TLS: {e.Message}", e);
        }
        return tls;
    }
}
