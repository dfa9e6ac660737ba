namespace Lantern.Storage;

/// <summary>
/// Small values found again by a key derived from their inputs (a built gradient model's description, a finished job that
/// answered a spec), kept beside the artifacts in the node's database so they outlive the process. The value for a key
/// never changes meaning: a computation is a function of the inputs the key hashes, so the first value written stays.
/// </summary>
public interface IMemoStore
{
    /// <returns>The value, or null when nothing was stored under the key.</returns>
    Task<string?> GetAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Stores the value unless the key has one already (then the stored one stays).</summary>
    Task PutAsync(string key, string value, CancellationToken cancellationToken = default);

    /// <summary>
    /// Removes the key's entry if it still holds <paramref name="value"/> (another writer's newer value stays): for values
    /// that can stop being true, such as a finished job that was since deleted.
    /// </summary>
    Task RemoveAsync(string key, string value, CancellationToken cancellationToken = default);
}
