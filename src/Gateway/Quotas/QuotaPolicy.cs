using Lantern.Gateway.Auth;
using Lantern.Gateway.Hosting;
using Lantern.Gateway.Mapping;
using Lantern.Storage.Users;
using Microsoft.Extensions.DependencyInjection;

namespace Lantern.Gateway.Quotas;

/// <summary>
/// The quotas that apply to a caller (user setting, else team setting, else the node's default) and the one way a
/// quota refuses: RESOURCE_EXHAUSTED naming the quota, the value asked and the allowance.
/// </summary>
public sealed class QuotaPolicy(GatewayOptions options, IServiceProvider services)
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, SemaphoreSlim> _submitting = new(StringComparer.Ordinal);

    public UserStore? Users => services.GetService<UserStore>();

    /// <summary>
    /// Serialises one user's submits on this gateway from the quota check until the job is recorded and started, so
    /// simultaneous submits cannot each see room for one more job. Dispose the result to let the next one in.
    /// </summary>
    public async Task<IDisposable> AdmitOneSubmitAtATimeAsync(Caller caller, CancellationToken cancellationToken)
    {
        var gate = _submitting.GetOrAdd(caller.Name, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        return new Admission(gate);
    }

    private sealed class Admission(SemaphoreSlim gate) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) gate.Release();
        }
    }

    public async Task<QuotaLimits> ForAsync(Caller caller, CancellationToken cancellationToken)
    {
        var limits = options.Quotas;
        if (caller.IsOpen || Users is not { } users) return limits;
        var overrides = await users.QuotasAsync(caller.Name, caller.Team, cancellationToken);
        // Team first, then the user's own, so the user's wins.
        foreach (var o in overrides.OrderBy(o => o.Scope == QuotaScope.User)) limits = limits.With(o.Quota, o.Value);
        return limits;
    }

    /// <summary>Refuses when <paramref name="asked"/> is above the allowance.</summary>
    public static void Check(QuotaLimits limits, string quota, long asked, string what, string hint = "")
    {
        var allowance = limits[quota];
        if (asked > allowance)
            GrpcErrors.ResourceExhausted(
                $"quota {quota} exceeded: {what} is {asked:N0}, the allowance is {allowance:N0}{(hint.Length > 0 ? "; " + hint : "")}" +
                " (an admin can raise it with lantern users set-quota)");
    }
}
