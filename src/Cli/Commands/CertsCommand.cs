using System.CommandLine;
using Lantern.Host.Security;

namespace Lantern.Cli.Commands;

/// <summary>
/// <c>lantern certs</c>: a private CA and certificates it signs, for mutual TLS between cluster nodes
/// (<c>serve --cluster-tls-cert/--cluster-tls-ca</c>) and for the gRPC listener (<c>serve --tls-cert/--tls-key</c>).
/// </summary>
public static class CertsCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { DefaultValueFactory = _ => "certs", Description = "Folder to write into; a CA already there (ca.pem, ca.key) signs the new certificates" };
        var names = new Option<string[]>("--name")
        {
            DefaultValueFactory = _ => ["node"], AllowMultipleArgumentsPerToken = true,
            Description = "Certificate(s) to write, each as NAME.pfx (cluster) and NAME.pem + NAME.key (gRPC); one shared by every node is enough",
        };
        var hosts = new Option<string>("--hosts")
        {
            DefaultValueFactory = _ => "localhost,127.0.0.1",
            Description = "Comma-separated DNS names and IP addresses gRPC clients reach the nodes by (subject alternative names)",
        };
        var days = new Option<int>("--days") { DefaultValueFactory = _ => 365, Description = "Validity of the node certificates (the CA gets ten years)" };
        var command = new Command("certs", "Write a cluster CA and node certificates (PFX for the cluster port, PEM for gRPC); "
            + "the PFX password comes from env LANTERN_CLUSTER_TLS_PASSWORD (none if unset)")
        {
            output, names, hosts, days,
        };
        command.SetAction(parsed =>
        {
            var folder = Directory.CreateDirectory(parsed.GetValue(output)!).FullName;
            var password = NodeSettings.Env("LANTERN_CLUSTER_TLS_PASSWORD");
            var caPem = Path.Combine(folder, "ca.pem");
            var caKey = Path.Combine(folder, "ca.key");
            X509Authority authority;
            if (File.Exists(caPem) && File.Exists(caKey))
            {
                authority = new X509Authority(ClusterCertificates.LoadAuthority(caPem, caKey), Created: false);
            }
            else
            {
                authority = new X509Authority(ClusterCertificates.CreateAuthority("Lantern cluster CA", TimeSpan.FromDays(3650)), Created: true);
                File.WriteAllText(caPem, ClusterCertificates.CertificatePem(authority.Certificate));
                WritePrivate(caKey, ClusterCertificates.PrivateKeyPem(authority.Certificate));
            }
            var alternativeNames = parsed.GetValue(hosts)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            foreach (var name in parsed.GetValue(names)!)
            {
                using var node = ClusterCertificates.CreateSigned(authority.Certificate, name, alternativeNames, TimeSpan.FromDays(parsed.GetValue(days)));
                WritePrivate(Path.Combine(folder, $"{name}.pfx"), ClusterCertificates.ExportPfx(node, authority.Certificate, password));
                File.WriteAllText(Path.Combine(folder, $"{name}.pem"), ClusterCertificates.CertificatePem(node));
                WritePrivate(Path.Combine(folder, $"{name}.key"), ClusterCertificates.PrivateKeyPem(node));
            }
            Console.WriteLine($"{(authority.Created ? "Wrote a new CA" : "Used the CA")} in {folder} (ca.pem; keep ca.key private) and " +
                              $"{string.Join(", ", parsed.GetValue(names)!.Select(n => $"{n}.pfx/.pem/.key"))}");
            authority.Certificate.Dispose();
            return 0;
        });
        return command;
    }

    private sealed record X509Authority(System.Security.Cryptography.X509Certificates.X509Certificate2 Certificate, bool Created);

    private static void WritePrivate(string path, string text) => WritePrivate(path, System.Text.Encoding.ASCII.GetBytes(text));

    /// <summary>Owner-only permissions from the start (keys and PFX files).</summary>
    private static void WritePrivate(string path, byte[] bytes)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var file = new FileStream(path, options);
        file.Write(bytes);
    }
}
