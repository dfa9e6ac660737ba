namespace Lantern.Explainers.Lime;

/// <summary>lime's feature_selection: Auto = ForwardSelection when NumFeatures &lt;= 6, else HighestWeights.</summary>
public enum FeatureSelection { Auto, ForwardSelection, HighestWeights, None }

/// <summary>
/// LIME over superpixels, as lime_image (Ribeiro et al. 2016): <see cref="Samples"/> evaluations, sample 0 with every
/// feature on, every other feature of every other sample on or off by a fair coin (<see cref="LimeSampler"/>). Each sample
/// is weighted by sqrt(exp(-d²/KernelWidth²)) with d the cosine distance between its on/off row and the all-on row, and
/// one weighted ridge regression (alpha 1, with intercept) per target is fitted on the selected features.
/// <para><see cref="NumFeatures"/> bounds the features the selection keeps (lime's num_features).</para>
/// </summary>
public sealed record LimeParameters(
    int Samples = 1000,
    ulong Seed = 0,
    float KernelWidth = 0.25f,
    FeatureSelection Selection = FeatureSelection.Auto,
    int NumFeatures = 10)
{
    internal void Validate()
    {
        if (Samples < 1)
            throw new ArgumentException($"LIME needs at least 1 sample, got {Samples}", nameof(Samples));
        if (!(KernelWidth > 0) || !float.IsFinite(KernelWidth))
            throw new ArgumentException($"KernelWidth must be finite and positive, got {KernelWidth}", nameof(KernelWidth));
        if (NumFeatures < 1)
            throw new ArgumentException($"NumFeatures must be at least 1, got {NumFeatures}", nameof(NumFeatures));
        if (!Enum.IsDefined(Selection))
            throw new ArgumentException($"unknown feature selection {Selection}", nameof(Selection));
    }
}
