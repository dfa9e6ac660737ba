namespace Lantern.Bench;

/// <summary>
/// One measured figure: how many model evaluations a path ran in how many seconds, and the process's peak resident
/// memory during it (<see cref="RssSampler"/>). <paramref name="Batch"/> is the batch size of a raw row; <paramref name="Method"/> the explanation method of an
/// explanation row (raw rows run no method). <paramref name="Error"/>: for an approximate method (coarse-to-fine occlusion),
/// how far its maps are from the exact ones. <paramref name="RawNearby"/>: raw evals/s at the best batch size, measured right
/// before this row.
/// </summary>
public sealed record Measurement(string Model, string Path, long Evaluations, double Seconds, double PeakRssMb, int? Batch = null,
    string Detail = "", string? Method = null, MapError? Error = null, double? RawNearby = null)
{
    public double EvalsPerSecond => Evaluations / Seconds;
}

/// <summary>
/// An approximate map against the exact one: ‖approx − exact‖₂ / ‖exact‖₂ over every pixel of every map, and the share
/// of the exact map's top 5 % pixels (by value) that are also in the approximate map's top 5 % (the mean over maps).
/// </summary>
public sealed record MapError(double RelativeL2, double TopOverlap);
