namespace Lantern.Methods;

/// <summary>
/// A method whose perturbations are chosen in steps, each step from the scores of the steps before it (coarse-to-fine
/// occlusion today; sampling until a map converges would be another). The job entity drives it without knowing which
/// method it is: it persists each step's selection as a PlanExtended event and replays the same selection on recovery.
/// </summary>
public interface IAdaptivePlan
{
    /// <summary>Steps in all; the job ends after the last one is scored.</summary>
    int Steps { get; }

    /// <summary>The perturbations the plan selects from (its numbering; a job evaluates a selection of them).</summary>
    long PlannedPerturbations { get; }

    /// <param name="baseline">Each target's score for the unperturbed image.</param>
    IAdaptivePlanner Start(ReadOnlySpan<float> baseline);
}

/// <summary>One run of an <see cref="IAdaptivePlan"/>: deterministic, so replaying recorded steps reproduces it.</summary>
public interface IAdaptivePlanner
{
    /// <summary>The plan's perturbations step <paramref name="step"/> evaluates, ascending; every earlier step recorded.</summary>
    long[] Select(int step);

    /// <param name="scores">The selected perturbations' scores, selected × targets, row-major.</param>
    void Record(int step, ReadOnlySpan<long> selected, ReadOnlySpan<float> scores);

    /// <summary>Planned perturbations × targets, evaluated or filled in by the method: what its assembler takes.</summary>
    float[] PlanScores();
}
