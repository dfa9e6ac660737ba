namespace Lantern.Storage;

/// <summary>
/// Models registered under a team's <c>name:version</c>, with what their jobs need beyond the ONNX file: preprocessing
/// (stored opaque, as the gateway serialises it), labels and a description. One table in the node's database.
/// </summary>
public interface IModelRegistry
{
    /// <returns>False when the team already has that name and version (nothing is changed).</returns>
    Task<bool> AddAsync(RegisteredModelRow model, CancellationToken cancellationToken = default);

    Task<RegisteredModelRow?> GetAsync(string team, string name, string version, CancellationToken cancellationToken = default);

    /// <summary>The team's models by name, then version.</summary>
    Task<IReadOnlyList<RegisteredModelRow>> ListAsync(string team, CancellationToken cancellationToken = default);

    /// <returns>False when there was no such model.</returns>
    Task<bool> RemoveAsync(string team, string name, string version, CancellationToken cancellationToken = default);

    /// <summary>The models every team has registered (retention keeps their bytes).</summary>
    Task<IReadOnlySet<string>> ModelHashesAsync(CancellationToken cancellationToken = default);
}

/// <param name="Preprocessing">The resolved preprocessing, serialised by the gateway (a lantern.v1.Preprocessing message).</param>
/// <param name="Labels">Class labels, line k = class k; no label contains a line break.</param>
public sealed record RegisteredModelRow(
    string Team,
    string Name,
    string Version,
    string ModelSha256,
    string Description,
    byte[] Preprocessing,
    IReadOnlyList<string> Labels,
    string RegisteredBy,
    long RegisteredUnixMs);
