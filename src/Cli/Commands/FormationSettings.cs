using System.CommandLine;
using Lantern.Host.Formation;

namespace Lantern.Cli.Commands;

/// <summary><c>serve</c>'s Cluster Bootstrap options (Akka.Management + discovery), each with a LANTERN_* variable.</summary>
public sealed class FormationSettings
{
    public Option<string> Discovery { get; } = new("--discovery")
    {
        DefaultValueFactory = _ => NodeSettings.Env("LANTERN_DISCOVERY") ?? "none",
        Description = "How nodes find each other: none (use --seeds, or form a cluster alone), config (Cluster Bootstrap on "
            + "--contact-points), kubernetes (Cluster Bootstrap on pods from the Kubernetes API) (env LANTERN_DISCOVERY)",
    };

    public Option<string?> ContactPoints { get; } = new("--contact-points")
    {
        DefaultValueFactory = _ => NodeSettings.Env("LANTERN_CONTACT_POINTS"),
        Description = "config discovery: comma-separated host:http-port of the nodes that may form the cluster, "
            + "e.g. coordinator:8080 (env LANTERN_CONTACT_POINTS)",
    };

    public Option<int> RequiredContactPoints { get; } = new("--required-contact-points")
    {
        DefaultValueFactory = _ => int.TryParse(NodeSettings.Env("LANTERN_REQUIRED_CONTACT_POINTS"), out var n) ? n : 1,
        Description = "Contact points to find before a new cluster is formed (env LANTERN_REQUIRED_CONTACT_POINTS)",
    };

    public Option<string> ServiceName { get; } = new("--service-name")
    {
        DefaultValueFactory = _ => NodeSettings.Env("LANTERN_SERVICE_NAME") ?? "lantern",
        Description = "Discovery service name; Kubernetes pod label app.kubernetes.io/name (env LANTERN_SERVICE_NAME)",
    };

    public Option<string?> PodSelector { get; } = new("--pod-selector")
    {
        DefaultValueFactory = _ => NodeSettings.Env("LANTERN_POD_SELECTOR"),
        Description = "kubernetes discovery: label selector of contact-point pods, {0} = service name "
            + $"(default {new BootstrapOptions().PodLabelSelector}; env LANTERN_POD_SELECTOR)",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Discovery);
        command.Options.Add(ContactPoints);
        command.Options.Add(RequiredContactPoints);
        command.Options.Add(ServiceName);
        command.Options.Add(PodSelector);
    }

    /// <summary>The bootstrap settings, or null for seed nodes; throws ArgumentException on a contradiction.</summary>
    public BootstrapOptions? Bootstrap(ParseResult parsed, bool seedsGiven)
    {
        var method = parsed.GetValue(Discovery) switch
        {
            "none" => (DiscoveryMethod?)null,
            "config" => DiscoveryMethod.Config,
            "kubernetes" => DiscoveryMethod.Kubernetes,
            var other => throw new ArgumentException($"--discovery '{other}' is not one of: none, config, kubernetes"),
        };
        if (method is null) return null;
        if (seedsGiven) throw new ArgumentException("--seeds and --discovery exclude each other: bootstrap finds the seeds");
        var contactPoints = parsed.GetValue(ContactPoints)?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) ?? [];
        if (method == DiscoveryMethod.Config && contactPoints.Length == 0)
            throw new ArgumentException("--discovery config needs --contact-points host:http-port[,…]");
        var defaults = new BootstrapOptions();
        return new BootstrapOptions
        {
            Discovery = method.Value,
            ContactPoints = contactPoints,
            RequiredContactPoints = Math.Max(1, parsed.GetValue(RequiredContactPoints)),
            ServiceName = parsed.GetValue(ServiceName)!,
            PodLabelSelector = parsed.GetValue(PodSelector) ?? defaults.PodLabelSelector,
        };
    }
}
