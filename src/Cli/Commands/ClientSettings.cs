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

    public void AddTo(Command command) => command.Options.Add(ApiKey);
}
