using Lantern.Host.Endpoints;
using YamlDotNet.RepresentationModel;

namespace Lantern.Deploy.Tests;

/// <summary>docker-compose.yml fits together and fits what `lantern serve` reads (no container engine here to run it).</summary>
public sealed class ComposeTests
{
    private static readonly YamlMappingNode Compose =
        Yaml.Documents(File.ReadAllText(Path.Combine(Yaml.RepositoryRoot, "docker-compose.yml"))).Single();

    private static YamlNode Service(string name) => Compose.At("services", name) ?? throw new Xunit.Sdk.XunitException($"no service {name}");

    private static IReadOnlyDictionary<string, string> Env(string service) => Service(service).Map("environment");

    [Fact]
    public void Every_lantern_service_sets_only_what_lantern_serve_reads_and_is_health_checked_on_readyz()
    {
        foreach (var name in (string[])["coordinator", "worker", "worker-gpu"])
        {
            var env = Env(name);
            Assert.Empty(env.Keys.Where(k => k.StartsWith("LANTERN_", StringComparison.Ordinal)).Except(Yaml.ServeVariables));
            var check = string.Join(' ', Service(name).Items("healthcheck", "test").Select(t => t.ToString()));
            Assert.Contains($"GET {NodeEndpoints.ReadyPath} HTTP/1.1", check);
            Assert.Contains($"/dev/tcp/127.0.0.1/{env["LANTERN_HTTP_PORT"]}", check);
            Assert.True(File.Exists(Path.Combine(Yaml.RepositoryRoot, Service(name).Text("build", "context")!, Service(name).Text("build", "dockerfile")!)));
            Assert.Equal("config", env["LANTERN_DISCOVERY"]);
            Assert.Equal("coordinator:" + Env("coordinator")["LANTERN_HTTP_PORT"], env["LANTERN_CONTACT_POINTS"]);
        }
    }

    [Fact]
    public void The_coordinator_is_the_contact_point_under_the_name_the_others_discover_and_uses_the_postgres_service()
    {
        var env = Env("coordinator");
        Assert.Equal("gateway,coordinator", env["LANTERN_ROLES"]);
        // Bootstrap's join decision compares the discovered contact point with the node's own address: they must agree.
        Assert.Equal(Service("coordinator").Text("hostname"), env["LANTERN_CLUSTER_HOST"]);
        Assert.Equal(env["LANTERN_CONTACT_POINTS"].Split(':')[0], env["LANTERN_CLUSTER_HOST"]);
        Assert.Contains(Service("coordinator").Items("ports"), p => p.ToString() == $"{env["LANTERN_PORT"]}:{env["LANTERN_PORT"]}");

        var postgres = Env("postgres");
        var connection = env["LANTERN_POSTGRES"].Split(';').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        Assert.Equal("postgres", connection["Host"]);
        Assert.Equal(postgres["POSTGRES_USER"], connection["Username"]);
        Assert.Equal(postgres["POSTGRES_PASSWORD"], connection["Password"]);
        Assert.Equal(postgres["POSTGRES_DB"], connection["Database"]);
        var volume = Assert.Single(Service("postgres").Items("volumes")).ToString().Split(':')[0];
        Assert.NotNull(Compose.At("volumes", volume));
    }

    [Fact]
    public void Workers_scale_and_the_gpu_profile_reserves_nvidia_devices()
    {
        foreach (var name in (string[])["worker", "worker-gpu"])
        {
            // `--scale` needs services without fixed names or published ports.
            Assert.Null(Service(name).At("container_name"));
            Assert.Null(Service(name).At("ports"));
            Assert.Equal("worker", Env(name)["LANTERN_ROLES"]);
            Assert.Equal("auto", Env(name)["LANTERN_CLUSTER_HOST"]);
        }
        Assert.Null(Service("worker").At("profiles"));
        Assert.Equal("cpu", Env("worker")["LANTERN_PROVIDER"]);
        Assert.Contains(Service("worker-gpu").Items("profiles"), p => p.ToString() == "gpu");
        Assert.Equal("cuda", Env("worker-gpu")["LANTERN_PROVIDER"]);
        var device = Assert.Single(Service("worker-gpu").Items("deploy", "resources", "reservations", "devices"));
        Assert.Equal("nvidia", device.Text("driver"));
        Assert.Contains(device.Items("capabilities"), c => c.ToString() == "gpu");
        Assert.EndsWith("Dockerfile.cuda", Service("worker-gpu").Text("build", "dockerfile"), StringComparison.Ordinal);
    }

    [Fact]
    public void Every_node_speaks_mutual_TLS_on_the_cluster_port_with_certificates_the_certs_service_writes_first()
    {
        var certs = Service("certs");
        var written = Assert.Single(certs.Items("volumes")).ToString().Split(':');
        Assert.NotNull(Compose.At("volumes", written[0]));
        Assert.Contains($"certs --out {written[1]} --name node", string.Join(' ', certs.Items("entrypoint").Select(e => e.ToString())));
        foreach (var name in (string[])["coordinator", "worker", "worker-gpu"])
        {
            var mounted = Assert.Single(Service(name).Items("volumes"), v => v.ToString().StartsWith(written[0] + ":", StringComparison.Ordinal)).ToString().Split(':');
            Assert.Equal("ro", mounted[2]);
            Assert.Equal($"{mounted[1]}/node.pfx", Env(name)["LANTERN_CLUSTER_TLS_CERT"]);
            Assert.Equal($"{mounted[1]}/ca.pem", Env(name)["LANTERN_CLUSTER_TLS_CA"]);
            Assert.Equal("service_completed_successfully", Service(name).Text("depends_on", "certs", "condition"));
        }
    }
}
