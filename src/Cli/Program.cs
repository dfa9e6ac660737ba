using System.CommandLine;
using Lantern.Cli.Commands;

var root = new RootCommand("Lantern: explanations (occlusion sensitivity, ...) of ONNX image models on a cluster")
{
    ExplainCommand.Create(),
    ServeCommand.Create(),
};
return await root.Parse(args).InvokeAsync();
