namespace Lantern.Explainers.Shap;

/// <summary>
/// KernelSHAP over features (Lundberg &amp; Lee 2017). <see cref="Samples"/> bounds the model evaluations, the two endpoints
/// (all features on, all off) included: with 2^M &lt;= Samples (and M &lt;= 20) every coalition is evaluated and the
/// values are the exact Shapley values; otherwise Samples − 2 coalitions (rounded down to pairs) are sampled.
/// </summary>
public sealed record KernelShapParameters(int Samples = 1000, ulong Seed = 0)
{
    internal void Validate()
    {
        if (Samples < 2)
            throw new ArgumentException($"KernelSHAP needs at least the 2 endpoint evaluations, got Samples = {Samples}", nameof(Samples));
    }
}
