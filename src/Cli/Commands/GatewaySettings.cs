using System.CommandLine;
using Lantern.Cli.Client;

namespace Lantern.Cli.Commands;

/// <summary>The options that name a running gateway and the caller's key, shared by the job commands.</summary>
public sealed class GatewaySettings
{
    public Option<string> Gateway { get; } = new("--gateway")
    {
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("LANTERN_GATEWAY") is { Length: > 0 } g ? g : "http://127.0.0.1:5000",
        Description = "The cluster's gateway, http://host:port or https://host:port (env LANTERN_GATEWAY; default http://127.0.0.1:5000)",
    };

    public Option<string?> ApiKey { get; } = new("--api-key")
    {
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("LANTERN_API_KEY"),
        Description = "Your API key, sent as authorization: Bearer KEY (env LANTERN_API_KEY)",
    };

    public Option<string?> CaCertificate { get; } = ClientSettings.CaCertificateOption();

    public void AddTo(Command command)
    {
        command.Options.Add(Gateway);
        command.Options.Add(ApiKey);
        command.Options.Add(CaCertificate);
    }

    /// <exception cref="ArgumentException">The gateway is not an absolute http(s) URL.</exception>
    public GatewayConnection Connect(ParseResult parsed)
    {
        var text = parsed.GetValue(Gateway)!;
        if (!text.Contains("://", StringComparison.Ordinal)) text = "http://" + text; // host:port, as the Python client takes it
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new ArgumentException($"--gateway '{parsed.GetValue(Gateway)}' is not a URL like http://127.0.0.1:5000");
        return new GatewayConnection(uri, parsed.GetValue(ApiKey), parsed.GetValue(CaCertificate));
    }
}
