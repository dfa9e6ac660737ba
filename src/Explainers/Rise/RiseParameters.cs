namespace Lantern.Explainers.Rise;

/// <summary>
/// RISE (Petsiuk et al. 2018): <see cref="Samples"/> random masks from <see cref="Cells"/>×<see cref="Cells"/> binary
/// grids whose cells are on with probability <see cref="Density"/> (the paper's p1).
/// </summary>
public sealed record RiseParameters(int Samples = 2000, ulong Seed = 0, int Cells = 7, float Density = 0.5f)
{
    internal void Validate()
    {
        if (Samples < 1)
            throw new ArgumentException($"RISE needs at least 1 sample, got {Samples}", nameof(Samples));
        if (Cells < 1)
            throw new ArgumentException($"Cells must be at least 1, got {Cells}", nameof(Cells));
        if (!(Density > 0 && Density <= 1))
            throw new ArgumentException($"Density must be in (0, 1], got {Density}", nameof(Density));
    }
}
