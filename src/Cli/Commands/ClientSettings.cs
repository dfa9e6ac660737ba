using System.CommandLine;

namespace Lantern.Cli.Commands;

/// <summary>Options of every command that calls a gateway.</summary>
public sealed class ClientSettings
{
    public Option<string?> ApiKey { get; } = new("--api-key")
    {
        DefaultValueFactory = _ => NodeSettings.Env("LANTERN_API_KEY"),
        Description = "API key for a gateway that requires one, sent as 'authorization: Bearer KEY' (env LANTERN_API_KEY)",
    };

    public Option<string?> CaCertificate { get; } = CaCertificateOption();

    public void AddTo(Command command)
    {
        command.Options.Add(ApiKey);
        command.Options.Add(CaCertificate);
    }

    /// <summary>--ca-cert: the CA an https:// gateway's certificate must chain to (ca.pem from <c>lantern certs</c>).</summary>
    public static Option<string?> CaCertificateOption() => new("--ca-cert")
    {
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("LANTERN_CA_CERT") is { Length: > 0 } c ? c : null,
        Description = "PEM file of the CA an https:// gateway's certificate must chain to, e.g. ca.pem from `lantern certs` (env LANTERN_CA_CERT; default: the system's CAs)",
    };
}
