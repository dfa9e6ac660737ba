namespace Lantern.Host.Formation;

/// <summary>How nodes find each other through Akka.Management Cluster Bootstrap instead of hand-written seed nodes.</summary>
public enum DiscoveryMethod
{
    /// <summary>A static list of contact points (management endpoints): local processes, docker-compose.</summary>
    Config,

    /// <summary>Pods listed through the Kubernetes API (the pod's ServiceAccount needs get/list/watch on pods).</summary>
    Kubernetes,
}

/// <summary>Cluster Bootstrap settings: each node answers contact-point probes on its HTTP/1.1 port.</summary>
public sealed record BootstrapOptions
{
    public DiscoveryMethod Discovery { get; init; } = DiscoveryMethod.Config;

    /// <summary>Name of the service whose endpoints are the contact points (Kubernetes: fills the pod label selector).</summary>
    public string ServiceName { get; init; } = "lantern";

    /// <summary>Config discovery: the contact points, <c>host:httpPort</c> of the nodes that may form the cluster.</summary>
    public IReadOnlyList<string> ContactPoints { get; init; } = [];

    /// <summary>Contact points that must be found before the lowest-addressed of them forms a new cluster.</summary>
    public int RequiredContactPoints { get; init; } = 1;

    /// <summary>
    /// Kubernetes: which pods are contact points; <c>{0}</c> is <see cref="ServiceName"/>. Only gateway+coordinator pods
    /// by default, so a cluster is always formed by a node that hosts jobs, and workers only ever join one.
    /// </summary>
    public string PodLabelSelector { get; init; } = "app.kubernetes.io/name={0},app.kubernetes.io/component=coordinator";

    /// <summary>Kubernetes: the pods' namespace; null reads the pod's own from its service-account mount.</summary>
    public string? PodNamespace { get; init; }

    /// <summary>Kubernetes: the name of the container port on which pods serve HTTP/1.1 (and so contact-point probes).</summary>
    public string PortName { get; init; } = "http";
}
