return await Lantern.Cli.LanternCli.RunAsync(args);
