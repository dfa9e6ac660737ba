using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Lantern.Cluster.Tests.Support;

/// <summary>
/// A throwaway PostgreSQL server for the persistence tests: initdb into a fresh temporary directory, started on a free
/// 127.0.0.1 port with its unix socket inside that directory, stopped and deleted on dispose. It uses the server
/// binaries of the Debian <c>postgresql</c> package (<c>/usr/lib/postgresql/*/bin</c>) or <c>initdb</c> on the PATH;
/// without them every test that needs the server fails (a skipped persistence test would prove nothing).
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    public const string Collection = "PostgreSQL server";
    private const string Superuser = "lantern";

    // PostgreSQL refuses to run as root; as root (CI containers) the server runs as the package's `postgres` user.
    private static readonly bool AsRoot = Environment.IsPrivilegedProcess;

    private string? _directory;
    private string? _binaries;
    private int _databases;

    public int Port { get; private set; }

    private string DataDirectory => Path.Combine(_directory!, "data");

    public async Task InitializeAsync()
    {
        _binaries = FindBinaries() ?? throw new InvalidOperationException(MissingBinariesMessage());
        _directory = Directory.CreateTempSubdirectory("lantern-pg-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(_directory, "socket"));
            if (AsRoot) await RunAsync("chown", ["-R", "postgres:", _directory], asServerUser: false);
            await RunAsync(Path.Combine(_binaries, "initdb"),
                ["-D", DataDirectory, "-U", Superuser, "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"]);
            await StartOnAFreePortAsync();
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    /// <summary>A new, empty database on this server; its Npgsql connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"lantern_{Interlocked.Increment(ref _databases)}";
        await using (var connection = new NpgsqlConnection(ConnectionString("postgres")))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await command.ExecuteNonQueryAsync();
        }
        return ConnectionString(name);
    }

    public string ConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = Port, Username = Superuser, Database = database }.ConnectionString;

    public async Task DisposeAsync()
    {
        if (_directory is null) return;
        try
        {
            NpgsqlConnection.ClearAllPools();
            if (Port != 0 && File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
                await RunAsync(Path.Combine(_binaries!, "pg_ctl"), ["-D", DataDirectory, "-m", "immediate", "-w", "stop"]);
        }
        finally
        {
            Directory.Delete(_directory, recursive: true);
            _directory = null;
        }
    }

    private async Task StartOnAFreePortAsync()
    {
        // A port found free can be taken before the server binds it; a few tries make that race harmless.
        for (var attempt = 1; ; attempt++)
        {
            Port = FreeLoopbackPort();
            // fsync off: a throwaway server; the tests restart nodes, never the database server.
            var settings = $"-c listen_addresses=127.0.0.1 -p {Port} -k {Path.Combine(_directory!, "socket")} " +
                           "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300";
            try
            {
                await RunAsync(Path.Combine(_binaries!, "pg_ctl"),
                    ["-D", DataDirectory, "-l", Path.Combine(_directory!, "server.log"), "-o", settings, "-w", "-t", "60", "start"]);
                return;
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
            }
        }
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string? FindBinaries()
    {
        var debian = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(version => Path.Combine(version, "bin"))
                .Where(bin => File.Exists(Path.Combine(bin, "initdb")) && File.Exists(Path.Combine(bin, "pg_ctl")))
                .OrderByDescending(bin => int.TryParse(Path.GetFileName(Path.GetDirectoryName(bin)), out var v) ? v : 0)
                .FirstOrDefault()
            : null;
        return debian ?? (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .FirstOrDefault(dir => File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl")));
    }

    private static string MissingBinariesMessage() => Environment.GetEnvironmentVariable("CI") == "true"
        ? "PostgreSQL server binaries (initdb, pg_ctl) are missing under /usr/lib/postgresql/*/bin and on the PATH; " +
          "CI must install the Debian package `postgresql` (.ci/run does) before running the persistence tests."
        : "The persistence tests run against a real PostgreSQL server, but initdb and pg_ctl were not found under " +
          "/usr/lib/postgresql/*/bin or on the PATH. Install the server: `sudo apt-get install postgresql` (Debian/Ubuntu).";

    /// <summary>Runs a command to completion (as the `postgres` user when we are root); a failure carries its output.</summary>
    private async Task RunAsync(string program, IReadOnlyList<string> arguments, bool asServerUser = true)
    {
        var start = new ProcessStartInfo
        {
            FileName = AsRoot && asServerUser ? "runuser" : program,
            // The server user cannot enter the test's working directory (e.g. /root/...); its own directory it can.
            WorkingDirectory = _directory!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (AsRoot && asServerUser)
            foreach (var prefix in new[] { "-u", "postgres", "--", program }) start.ArgumentList.Add(prefix);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            var log = Path.Combine(_directory!, "server.log");
            throw new InvalidOperationException(
                $"{Path.GetFileName(program)} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{await output}{await error}" +
                (File.Exists(log) ? $"\nserver log:\n{File.ReadAllText(log)}" : ""));
        }
    }
}

/// <summary>The test classes that share one <see cref="PostgresServer"/> (each test gets its own database on it).</summary>
[CollectionDefinition(PostgresServer.Collection)]
public sealed class PostgresServerCollection : ICollectionFixture<PostgresServer>;
