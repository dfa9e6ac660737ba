using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Lantern.Storage.Datasets;

/// <summary>
/// Datasets: a team's named lists of uploaded images (by hash) with a file name and an optional label each, versioned
/// 1, 2, … per name. Saving the latest version's contents again changes nothing; other contents make the next version.
/// Tables beside the model registry's in the node's database.
/// </summary>
public interface IDatasetRegistry
{
    /// <summary>
    /// The latest version when it has these entries (<see cref="SavedDataset.Created"/> false), else a new version
    /// numbered one past the highest this name ever had (a removed version's number is not reused).
    /// </summary>
    Task<SavedDataset> SaveAsync(string team, string name, IReadOnlyList<DatasetEntryRow> entries, string createdBy,
        long createdUnixMs, CancellationToken cancellationToken = default);

    /// <param name="version">Null: the latest version.</param>
    Task<DatasetRow?> GetAsync(string team, string name, int? version, CancellationToken cancellationToken = default);

    /// <summary>Entries <paramref name="offset"/> to <paramref name="offset"/> + <paramref name="count"/> - 1, in the dataset's order.</summary>
    Task<IReadOnlyList<DatasetEntryRow>> EntriesAsync(string team, string name, int version, int offset, int count,
        CancellationToken cancellationToken = default);

    /// <summary>The team's datasets by name, then version.</summary>
    Task<IReadOnlyList<DatasetRow>> ListAsync(string team, CancellationToken cancellationToken = default);

    /// <param name="version">Null: every version of the name.</param>
    /// <returns>How many versions were removed (0: none matched).</returns>
    Task<int> RemoveAsync(string team, string name, int? version, CancellationToken cancellationToken = default);

    /// <summary>The images every team's datasets list (retention keeps their bytes).</summary>
    Task<IReadOnlySet<string>> ImageHashesAsync(CancellationToken cancellationToken = default);
}

/// <param name="Label">"" for an unlabelled image.</param>
public sealed record DatasetEntryRow(string ImageSha256, string FileName, string Label);

public sealed record DatasetRow(
    string Team,
    string Name,
    int Version,
    string ContentSha256,
    int ImageCount,
    int LabelledCount,
    string CreatedBy,
    long CreatedUnixMs);

public sealed record SavedDataset(DatasetRow Dataset, bool Created);

public static class DatasetContent
{
    /// <summary>SHA-256 of the ordered entries; fields and entries are length-prefixed, so no two lists share a hash by framing.</summary>
    public static string Sha256(IReadOnlyList<DatasetEntryRow> entries)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> length = stackalloc byte[4];
        foreach (var entry in entries)
            foreach (var field in (ReadOnlySpan<string>)[entry.ImageSha256, entry.FileName, entry.Label])
            {
                var bytes = Encoding.UTF8.GetBytes(field);
                BinaryPrimitives.WriteInt32LittleEndian(length, bytes.Length);
                hash.AppendData(length);
                hash.AppendData(bytes);
            }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    public static int Labelled(IReadOnlyList<DatasetEntryRow> entries) => entries.Count(e => e.Label.Length > 0);
}
