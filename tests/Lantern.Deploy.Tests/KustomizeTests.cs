using Lantern.Host.Endpoints;
using Lantern.Host.Formation;
using YamlDotNet.RepresentationModel;

namespace Lantern.Deploy.Tests;

/// <summary>
/// deploy/k8s renders (kubectl kustomize, as `kubectl apply -k` would) and what it renders fits together and fits what
/// `lantern serve` reads. No cluster here: these are the checks a reviewer would otherwise do by eye.
/// </summary>
public sealed class KustomizeTests
{
    public static TheoryData<string> Renderings => ["base", "overlays/cpu", "overlays/gpu", "overlays/hpa"];

    private static IReadOnlyList<YamlMappingNode> Render(string directory)
    {
        var (exit, output) = Yaml.Run("kubectl", "kustomize", Path.Combine(Yaml.RepositoryRoot, "deploy", "k8s", directory));
        Assert.True(exit == 0, $"kubectl kustomize {directory} failed:\n{output}");
        return Yaml.Documents(output);
    }

    private static IEnumerable<YamlMappingNode> OfKind(IEnumerable<YamlMappingNode> objects, string kind) =>
        objects.Where(o => o.Text("kind") == kind);

    private static YamlMappingNode Named(IEnumerable<YamlMappingNode> objects, string kind, string name) =>
        OfKind(objects, kind).Single(o => o.Text("metadata", "name") == name);

    private static bool Selects(IReadOnlyDictionary<string, string> selector, IReadOnlyDictionary<string, string> labels) =>
        selector.Count > 0 && selector.All(s => labels.TryGetValue(s.Key, out var v) && v == s.Value);

    private static YamlNode Container(YamlMappingNode deployment) =>
        Assert.Single(deployment.Items("spec", "template", "spec", "containers"));

    private static Dictionary<string, YamlNode> Env(YamlNode container) =>
        container.Items("env").ToDictionary(e => e.Text("name")!, e => e);

    [Theory]
    [MemberData(nameof(Renderings))]
    public void Workloads_services_and_budgets_select_the_pods_they_mean(string directory)
    {
        var objects = Render(directory);
        var deployments = OfKind(objects, "Deployment").ToList();
        Assert.Equal(["lantern-coordinator", "lantern-worker"], deployments.Select(d => d.Text("metadata", "name")).Order());
        foreach (var deployment in deployments)
            Assert.True(Selects(deployment.Map("spec", "selector", "matchLabels"), deployment.Map("spec", "template", "metadata", "labels")),
                $"{deployment.Text("metadata", "name")}: selector does not match its pod labels");

        var grpc = Named(objects, "Service", "lantern-grpc");
        var served = deployments.Where(d => Selects(grpc.Map("spec", "selector"), d.Map("spec", "template", "metadata", "labels"))).ToList();
        Assert.Equal("lantern-coordinator", Assert.Single(served).Text("metadata", "name"));
        var grpcPort = Assert.Single(grpc.Items("spec", "ports"));
        Assert.Equal("kubernetes.io/h2c", grpcPort.Text("appProtocol"));
        Assert.Contains(Container(served[0]).Items("ports"), p => p.Text("name") == grpcPort.Text("targetPort"));

        foreach (var budget in OfKind(objects, "PodDisruptionBudget"))
            Assert.Single(deployments, d => Selects(budget.Map("spec", "selector", "matchLabels"), d.Map("spec", "template", "metadata", "labels")));
        Assert.Equal(2, OfKind(objects, "PodDisruptionBudget").Count());
    }

    [Theory]
    [MemberData(nameof(Renderings))]
    public void Containers_set_only_what_lantern_serve_reads_on_the_ports_they_declare_and_probe_real_endpoints(string directory)
    {
        foreach (var deployment in OfKind(Render(directory), "Deployment"))
        {
            var name = deployment.Text("metadata", "name");
            var container = Container(deployment);
            var env = Env(container);
            Assert.Empty(env.Keys.Where(k => k.StartsWith("LANTERN_", StringComparison.Ordinal)).Except(Yaml.ServeVariables));
            Assert.Equal("serve", Assert.Single(container.Items("args")).ToString());

            var ports = container.Items("ports").ToDictionary(p => p.Text("name")!, p => p.Text("containerPort")!);
            Assert.Equal(ports["grpc"], env["LANTERN_PORT"].Text("value"));
            Assert.Equal(ports["http"], env["LANTERN_HTTP_PORT"].Text("value"));
            Assert.Equal(ports["remoting"], env["LANTERN_CLUSTER_PORT"].Text("value"));
            Assert.Equal("0.0.0.0", env["LANTERN_HOST"].Text("value"));
            // Other nodes reach this one at its pod IP; Cluster Bootstrap finds the contact points through the API.
            Assert.Equal("status.podIP", env["LANTERN_CLUSTER_HOST"].Text("valueFrom", "fieldRef", "fieldPath"));
            Assert.Equal("kubernetes", env["LANTERN_DISCOVERY"].Text("value"));

            Assert.Equal(NodeEndpoints.ReadyPath, container.Text("readinessProbe", "httpGet", "path"));
            Assert.Equal(NodeEndpoints.LivePath, container.Text("livenessProbe", "httpGet", "path"));
            foreach (var probe in (string[])["readinessProbe", "livenessProbe", "startupProbe"])
                Assert.True(ports.ContainsKey(container.Text(probe, "httpGet", "port")!), $"{name}: {probe} names no declared port");

            Assert.NotNull(container.Text("resources", "requests", "cpu"));
            Assert.NotNull(container.Text("resources", "requests", "memory"));
            Assert.NotNull(container.Text("resources", "limits", "memory"));
            // Long enough for coordinated shutdown: leases handed back, shards handed over.
            Assert.True(int.Parse(deployment.Text("spec", "template", "spec", "terminationGracePeriodSeconds")!) >= 30, name);
            Assert.Equal("true", deployment.Text("spec", "template", "spec", "securityContext", "runAsNonRoot"));
        }
    }

    [Theory]
    [MemberData(nameof(Renderings))]
    public void Bootstrap_finds_the_coordinators_with_a_service_account_allowed_to_list_pods(string directory)
    {
        var objects = Render(directory);
        var account = Assert.Single(OfKind(objects, "ServiceAccount")).Text("metadata", "name");
        var binding = Assert.Single(OfKind(objects, "RoleBinding"));
        Assert.Contains(binding.Items("subjects"), s => s.Text("kind") == "ServiceAccount" && s.Text("name") == account);
        var role = Named(objects, "Role", binding.Text("roleRef", "name")!);
        Assert.Contains(role.Items("rules"), r => r.Items("resources").Any(x => x.ToString() == "pods")
            && r.Items("verbs").Any(v => v.ToString() == "list"));

        // The pod label selector discovery uses (the node's default) picks the coordinators, and only them.
        var defaults = new BootstrapOptions();
        var selector = string.Format(System.Globalization.CultureInfo.InvariantCulture, defaults.PodLabelSelector, defaults.ServiceName)
            .Split(',').Select(p => p.Split('=')).ToDictionary(p => p[0], p => p[1]);
        foreach (var deployment in OfKind(objects, "Deployment"))
        {
            Assert.Equal(account, deployment.Text("spec", "template", "spec", "serviceAccountName"));
            var isContactPoint = Selects(selector, deployment.Map("spec", "template", "metadata", "labels"));
            Assert.Equal(deployment.Text("metadata", "name") == "lantern-coordinator", isContactPoint);
            Assert.Contains(Container(deployment).Items("ports"), p => p.Text("name") == defaults.PortName);
        }

        var coordinator = Env(Container(Named(objects, "Deployment", "lantern-coordinator")));
        var secretRef = coordinator["LANTERN_POSTGRES"].At("valueFrom", "secretKeyRef")!;
        var secret = Named(objects, "Secret", secretRef.Text("name")!);
        Assert.True(secret.At("stringData", secretRef.Text("key")!) is not null || secret.At("data", secretRef.Text("key")!) is not null);
    }

    [Theory]
    [MemberData(nameof(Renderings))]
    public void Only_lantern_pods_reach_the_cluster_port(string directory)
    {
        var objects = Render(directory);
        var policy = Assert.Single(OfKind(objects, "NetworkPolicy"));
        var guarded = policy.Map("spec", "podSelector", "matchLabels");
        foreach (var deployment in OfKind(objects, "Deployment"))
            Assert.True(Selects(guarded, deployment.Map("spec", "template", "metadata", "labels")), deployment.Text("metadata", "name"));
        var rules = policy.Items("spec", "ingress").Where(r => r.Items("ports").Any(p => p.Text("port") == "remoting")).ToList();
        var rule = Assert.Single(rules);
        var from = Assert.Single(rule.Items("from"));
        Assert.Null(from.At("namespaceSelector"));
        Assert.Equal(guarded, from.Map("podSelector", "matchLabels"));
        Assert.Null(from.At("ipBlock"));
    }

    [Fact]
    public void The_gpu_overlay_gives_each_worker_a_gpu_on_a_gpu_node_and_the_cpu_overlay_none()
    {
        var gpu = Named(Render("overlays/gpu"), "Deployment", "lantern-worker");
        var container = Container(gpu);
        Assert.Equal("1", container.Text("resources", "requests", "nvidia.com/gpu"));
        Assert.Equal("1", container.Text("resources", "limits", "nvidia.com/gpu"));
        Assert.Contains(gpu.Items("spec", "template", "spec", "tolerations"), t => t.Text("key") == "nvidia.com/gpu");
        Assert.NotEmpty(gpu.Map("spec", "template", "spec", "nodeSelector"));
        Assert.Equal("cuda", Env(container)["LANTERN_PROVIDER"].Text("value"));
        Assert.EndsWith(":cuda", container.Text("image"), StringComparison.Ordinal);
        // The coordinator runs no inference: it stays on the CPU image with no GPU.
        var coordinator = Container(Named(Render("overlays/gpu"), "Deployment", "lantern-coordinator"));
        Assert.Null(coordinator.Text("resources", "requests", "nvidia.com/gpu"));

        var cpu = Container(Named(Render("overlays/cpu"), "Deployment", "lantern-worker"));
        Assert.Null(cpu.Text("resources", "requests", "nvidia.com/gpu"));
        Assert.Equal("cpu", Env(cpu)["LANTERN_PROVIDER"].Text("value"));
    }

    [Theory]
    [InlineData("overlays/cpu")]
    [InlineData("overlays/gpu")]
    public async Task Keda_scales_the_worker_deployment_on_the_queue_depth_metric_a_node_exports(string directory)
    {
        var objects = Render(directory);
        var scaler = Assert.Single(OfKind(objects, "ScaledObject"));
        Assert.Equal("lantern-worker", scaler.Text("spec", "scaleTargetRef", "name"));
        Assert.Single(OfKind(objects, "Deployment"), d => d.Text("metadata", "name") == scaler.Text("spec", "scaleTargetRef", "name"));
        Assert.True(int.Parse(scaler.Text("spec", "minReplicaCount")!) >= 1, "a floor of at least one worker when idle");
        var trigger = Assert.Single(scaler.Items("spec", "triggers"));
        Assert.Equal("prometheus", trigger.Text("type"));
        var exported = await ExportedMetricNamesAsync();
        var query = trigger.Text("metadata", "query")!;
        var named = System.Text.RegularExpressions.Regex.Matches(query, @"lantern_[a-z_]+").Select(m => m.Value).ToList();
        Assert.Contains("lantern_work_items_pending", named);
        Assert.All(named, n => Assert.Contains(n, exported));
        Assert.Empty(OfKind(objects, "HorizontalPodAutoscaler"));
    }

    [Fact]
    public void The_hpa_overlay_scales_the_worker_deployment_on_an_external_metric_instead_of_keda()
    {
        var objects = Render("overlays/hpa");
        Assert.Empty(OfKind(objects, "ScaledObject"));
        var hpa = Assert.Single(OfKind(objects, "HorizontalPodAutoscaler"));
        Assert.Equal("lantern-worker", hpa.Text("spec", "scaleTargetRef", "name"));
        var metric = Assert.Single(hpa.Items("spec", "metrics"));
        Assert.Equal("External", metric.Text("type"));
        Assert.True(int.Parse(hpa.Text("spec", "minReplicas")!) >= 1);
    }

    /// <summary>The metric names a coordinator's registry really exports (prometheus-net's own text output).</summary>
    internal static async Task<IReadOnlySet<string>> ExportedMetricNamesAsync()
    {
        var registry = Prometheus.Metrics.NewCustomRegistry();
        _ = new Coordinator.Metrics.CoordinatorMetrics(registry);
        _ = new Worker.Inference.WorkerMetrics(registry);
        using var stream = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(stream);
        var text = System.Text.Encoding.UTF8.GetString(stream.ToArray());
        return text.Split('\n').Where(l => l.StartsWith("# TYPE ", StringComparison.Ordinal)).Select(l => l.Split(' ')[2]).ToHashSet();
    }

    [Theory]
    [MemberData(nameof(Renderings))]
    public void Every_node_speaks_mutual_TLS_on_the_cluster_port_with_the_certificates_mounted_from_one_secret(string directory)
    {
        var deployments = OfKind(Render(directory), "Deployment").ToList();
        Assert.NotEmpty(deployments);
        foreach (var deployment in deployments)
        {
            var container = Container(deployment);
            var env = Env(container);
            var certificate = env["LANTERN_CLUSTER_TLS_CERT"].Text("value")!;
            var authority = env["LANTERN_CLUSTER_TLS_CA"].Text("value")!;
            var mount = Assert.Single(container.Items("volumeMounts"), m => certificate.StartsWith(m.Text("mountPath") + "/", StringComparison.Ordinal));
            Assert.StartsWith(mount.Text("mountPath") + "/", authority, StringComparison.Ordinal);
            var volume = Assert.Single(deployment.Items("spec", "template", "spec", "volumes"), v => v.Text("name") == mount.Text("name"));
            Assert.Equal("lantern-cluster-tls", volume.Text("secret", "secretName"));
        }
    }
}
