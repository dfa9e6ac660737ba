using System.CommandLine;
using Lantern.Cli.Commands;

namespace Lantern.Cli;

/// <summary>The <c>lantern</c> command line; Program.cs only calls <see cref="RunAsync"/> so tests can run it in-process.</summary>
public static class LanternCli
{
    public static Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("Lantern: explanations (occlusion sensitivity, ...) of ONNX image models on a cluster")
        {
            ExplainCommand.Create(),
            ServeCommand.Create(),
            InspectCommand.Create(),
            ModelsCommand.Create(),
            DatasetsCommand.Create(),
            UsersCommand.Create(),
            JobsCommand.Create(),
            ResultCommand.Create(),
            CertsCommand.Create(),
            LocalCommand.Create(),
            SamplesCommand.Create(),
        };
        // Ctrl-C (and SIGTERM) cancel the command's token; a command that has not returned 2 s later is cut off (exit 130).
        return root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(2) });
    }
}
