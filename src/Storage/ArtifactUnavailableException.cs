namespace Lantern.Storage;

/// <summary>
/// An artifact could not be fetched right now (no node to fetch it from, a timeout): a transient failure, worth
/// retrying elsewhere or later, unlike an artifact that does not exist.
/// </summary>
public sealed class ArtifactUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
