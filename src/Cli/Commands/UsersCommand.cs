using System.CommandLine;
using Lantern.Cli.Client;
using Lantern.Contracts.Api;
using Lantern.Gateway.Quotas;
using Lantern.Host;
using Lantern.Storage.Users;
using Spectre.Console;

namespace Lantern.Cli.Commands;

/// <summary>
/// <c>lantern users add|list|revoke|set-quota</c>: against the node's database directly (<c>--db</c>/<c>--postgres</c>,
/// how the first admin is made) or through a gateway's Admin service (<c>--gateway URL --api-key ADMIN_KEY</c>).
/// </summary>
public static class UsersCommand
{
    public static Command Create()
    {
        var command = new Command("users", "Manage the users, API keys, teams and quotas of a shared node");
        command.Subcommands.Add(Add());
        command.Subcommands.Add(List());
        command.Subcommands.Add(Revoke());
        command.Subcommands.Add(SetQuota());
        return command;
    }

    private static Command Add()
    {
        var name = new Argument<string>("NAME") { Description = "User name (letters, digits, '-', '_', '.')" };
        var team = new Option<string>("--team") { Required = true, Description = "The team whose jobs and uploads the user shares" };
        var admin = new Option<bool>("--admin") { Description = "The user may manage users and sees every job" };
        var command = new Command("add", "Add a user and print their API key (shown this once; only its hash is kept)") { name, team, admin };
        return Target(command, async (target, parsed, cancellationToken) =>
        {
            var added = await target.Admin.AddUserAsync(new AddUserRequest
            {
                Name = parsed.GetValue(name)!, Team = parsed.GetValue(team)!, Admin = parsed.GetValue(admin),
            }, cancellationToken: cancellationToken);
            Console.Error.WriteLine($"added {added.User.Name} (team {added.User.Team}{(added.User.Admin ? ", admin" : "")}); the API key follows, shown only now:");
            Console.WriteLine(added.ApiKey);
        });
    }

    private static Command List()
    {
        var command = new Command("list", "List users, their teams and the quotas set for them");
        return Target(command, async (target, _, cancellationToken) =>
        {
            var users = await target.Admin.ListUsersAsync(new ListUsersRequest(), cancellationToken: cancellationToken);
            var table = new Table().AddColumns("name", "team", "admin", "key", "quotas");
            foreach (var u in users.Users)
                table.AddRow(Markup.Escape(u.Name), Markup.Escape(u.Team), u.Admin ? "yes" : "", u.Revoked ? "[red]revoked[/]" : "active",
                    Markup.Escape(string.Join(", ", u.Quotas.Select(q => $"{q.Name}={q.Value} ({q.Scope})"))));
            AnsiConsole.Write(table);
        });
    }

    private static Command Revoke()
    {
        var name = new Argument<string>("NAME");
        var command = new Command("revoke", "Revoke a user's API key, at once on every gateway") { name };
        return Target(command, async (target, parsed, cancellationToken) =>
        {
            var user = await target.Admin.RevokeUserAsync(new RevokeUserRequest { Name = parsed.GetValue(name)! }, cancellationToken: cancellationToken);
            Console.WriteLine($"revoked the key of {user.Name}");
        });
    }

    private static Command SetQuota()
    {
        var name = new Argument<string>("NAME") { Description = "A user, or a team with --for-team" };
        var forTeam = new Option<bool>("--for-team") { Description = "NAME is a team: the quotas apply to each of its users without their own" };
        var command = new Command("set-quota", "Set quotas of a user or team (-1 restores the node's default)") { name, forTeam };
        var options = QuotaLimits.Names.Select(q => (Quota: q, Option: new Option<long?>("--" + q.Replace('_', '-'))
        {
            Description = $"{q}: the allowance (-1: back to the default of {new QuotaLimits()[q]:N0})",
        })).ToList();
        foreach (var (_, option) in options) command.Options.Add(option);
        return Target(command, async (target, parsed, cancellationToken) =>
        {
            var request = new SetQuotaRequest { Name = parsed.GetValue(name)!, Team = parsed.GetValue(forTeam) };
            foreach (var (quota, option) in options)
                if (parsed.GetValue(option) is { } value) request.Quotas.Add(new Quota { Name = quota, Value = value });
            if (request.Quotas.Count == 0) throw new ArgumentException($"give at least one quota: {string.Join(", ", options.Select(o => o.Option.Name))}");
            var set = await target.Admin.SetQuotaAsync(request, cancellationToken: cancellationToken);
            Console.WriteLine(set.Quotas.Count == 0
                ? $"{request.Name} has the default quotas"
                : $"{request.Name}: {string.Join(", ", set.Quotas.Select(q => $"{q.Name}={q.Value}"))}");
        });
    }

    /// <summary>
    /// Where the command acts: a gateway's Admin service, or (without --gateway) a one-process gateway over the node's
    /// database started just for this command, so both paths run the same checks and the same SQL.
    /// </summary>
    private static Command Target(Command command, Func<ExplainClient, ParseResult, CancellationToken, Task> action)
    {
        var node = new NodeSettings();
        var client = new ClientSettings();
        var gateway = new Option<string?>("--gateway") { Description = "Manage users through this gateway (http://host:port) with an admin's --api-key" };
        command.Options.Add(node.Database);
        command.Options.Add(node.Postgres);
        client.AddTo(command);
        command.Options.Add(gateway);
        command.SetAction(async (parsed, cancellationToken) =>
        {
            Microsoft.AspNetCore.Builder.WebApplication? local = null;
            try
            {
                Uri address;
                string? apiKey = null;
                if (parsed.GetValue(gateway) is { } remote)
                {
                    address = new Uri(remote);
                    apiKey = parsed.GetValue(client.ApiKey);
                }
                else
                {
                    local = AdminNode(parsed.GetValue(node.Database)!, parsed.GetValue(node.Postgres));
                    await local.StartAsync(cancellationToken);
                    address = LanternNode.GrpcAddress(local);
                }
                using var target = ExplainClient.Connect(address, apiKey);
                await action(target, parsed, cancellationToken);
                return 0;
            }
            catch (Grpc.Core.RpcException e)
            {
                Console.Error.WriteLine($"error ({e.StatusCode}): {e.Status.Detail}");
                return 1;
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
            finally
            {
                if (local is not null)
                {
                    await local.StopAsync(CancellationToken.None);
                    await local.DisposeAsync();
                }
            }
        });
        return command;
    }

    /// <summary>
    /// A gateway-only web host over the database with no cluster behind it, open on a loopback port for the few
    /// milliseconds of one admin command: whoever can write the database file may manage its users anyway.
    /// </summary>
    private static Microsoft.AspNetCore.Builder.WebApplication AdminNode(string database, string? postgres) =>
        LanternNode.BuildAdmin(new NodeOptions { DatabasePath = database, PostgresConnectionString = postgres, GrpcPort = 0 });
}
