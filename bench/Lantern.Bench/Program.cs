using Lantern.Bench;

if (args is ["-h"] or ["--help"])
{
    Console.WriteLine(BenchOptions.Usage);
    return 0;
}
try
{
    return await BenchRun.RunAsync(BenchOptions.Parse(args), args);
}
catch (Exception e) when (e is ArgumentException or FileNotFoundException or DirectoryNotFoundException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}
