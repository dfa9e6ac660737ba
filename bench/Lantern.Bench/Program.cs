using Lantern.Bench;
using Lantern.Bench.ControlPlane;

if (args is ["-h"] or ["--help"])
{
    Console.WriteLine(BenchOptions.Usage);
    return 0;
}
// A node of the control-plane bench, started by the bench itself as a child process.
if (args is [NodeSpec.Flag, ..]) return await NodeChild.RunAsync(args);
try
{
    var options = BenchOptions.Parse(args);
    return options.ControlPlane ? await ControlPlaneRun.RunAsync(options, args)
        : options.Layouts ? await RawLayouts.RunAsync(options, args)
        : await BenchRun.RunAsync(options, args);
}
catch (Exception e) when (e is ArgumentException or FileNotFoundException or DirectoryNotFoundException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}
