using System.Globalization;
using System.Text.RegularExpressions;
using Lantern.Contracts.Api;
using Lantern.Gateway.Auth;
using Lantern.Storage;
using Lantern.Storage.Datasets;
using Lantern.Storage.Users;

namespace Lantern.Gateway.Mapping;

/// <summary>
/// The dataset registry as the gateway uses it: checks a team's dataset (name, file names, labels, that every image was
/// uploaded and may be used by the caller), saves it as the next version, reads it back a page at a time. Nodes without
/// the database have no registry.
/// </summary>
/// <param name="registry">Null on a node without the database: every call then fails clearly.</param>
/// <param name="users">Null on a node without the database, which is open: every stored image may be used.</param>
public sealed partial class RegisteredDatasets(IArtifactStore artifacts, IDatasetRegistry? registry = null, UserStore? users = null)
{
    /// <summary>Entries in one dataset, and hashes in one FindImages call: 10,000 entries keep a request well under 16 MiB.</summary>
    public const int MaxImages = 10_000;

    public const int MaxFileNameLength = 255;
    public const int MaxLabelLength = 128;
    public const int DefaultPageSize = 1_000;

    /// <summary>The hashes the caller may use already: stored, and (unless an admin or an open node) uploaded by them or their team.</summary>
    public async Task<IReadOnlyList<string>> FindImagesAsync(IReadOnlyList<string> hashes, Caller caller, CancellationToken cancellationToken)
    {
        if (hashes.Count > MaxImages)
            GrpcErrors.InvalidArgument($"{hashes.Count:N0} hashes in one call; ask about at most {MaxImages:N0} at a time");
        var present = new List<string>();
        foreach (var sha256 in hashes.Distinct(StringComparer.Ordinal))
        {
            if (!ContentHash.IsWellFormed(sha256))
                GrpcErrors.InvalidArgument($"'{Truncate(sha256)}' is not a sha256 (64 lowercase hex characters)");
            if (await MayUseAsync(sha256, caller, cancellationToken)) present.Add(sha256);
        }
        return present;
    }

    public async Task<Dataset> CreateAsync(CreateDatasetRequest request, Caller caller, CancellationToken cancellationToken)
    {
        CheckName(request.Name);
        var entries = CheckEntries(request.Entries);
        var store = RequireRegistry();
        foreach (var entry in entries.DistinctBy(e => e.ImageSha256))
            if (!await MayUseAsync(entry.ImageSha256, caller, cancellationToken))
                GrpcErrors.NotFound($"no image with sha256 {entry.ImageSha256} (entry '{entry.FileName}'); upload it first with UploadImage");
        var saved = await store.SaveAsync(caller.Team, request.Name, entries, caller.Name,
            DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), cancellationToken);
        var dataset = ToApi(saved.Dataset);
        dataset.Created = saved.Created;
        return dataset;
    }

    public async Task<IReadOnlyList<Dataset>> ListAsync(string team, CancellationToken cancellationToken) =>
        [.. (await RequireRegistry().ListAsync(team, cancellationToken)).Select(ToApi)];

    /// <summary>The dataset (the latest version when the reference names none) with one page of its entries.</summary>
    public async Task<Dataset> GetAsync(GetDatasetRequest request, string team, CancellationToken cancellationToken)
    {
        var (name, version) = Parse(request.Dataset);
        if (request.PageSize is < 0 or > MaxImages)
            GrpcErrors.InvalidArgument($"page_size {request.PageSize} is outside 0 to {MaxImages:N0} (0 = {DefaultPageSize:N0})");
        var pageSize = request.PageSize == 0 ? DefaultPageSize : request.PageSize;
        var offset = 0;
        if (request.PageToken.Length > 0 && (!int.TryParse(request.PageToken, NumberStyles.None, CultureInfo.InvariantCulture, out offset) || offset > MaxImages))
            GrpcErrors.InvalidArgument($"page_token '{Truncate(request.PageToken)}' is not one GetDataset returned");
        var store = RequireRegistry();
        var row = await store.GetAsync(team, name, version, cancellationToken)
                  ?? throw new Grpc.Core.RpcException(new Grpc.Core.Status(Grpc.Core.StatusCode.NotFound, NoDataset(request.Dataset)));
        var dataset = ToApi(row);
        dataset.Entries.Add((await store.EntriesAsync(team, row.Name, row.Version, offset, pageSize, cancellationToken))
            .Select(e => new DatasetEntry { ImageSha256 = e.ImageSha256, FileName = e.FileName, Label = e.Label }));
        if (offset + pageSize < row.ImageCount) dataset.NextPageToken = (offset + pageSize).ToString(CultureInfo.InvariantCulture);
        return dataset;
    }

    /// <summary>The dataset a job names ("name" for the latest version, or "name:version") with all its entries, in order.</summary>
    public async Task<(DatasetRow Dataset, IReadOnlyList<DatasetEntryRow> Entries)> ResolveAsync(string reference, string team,
        CancellationToken cancellationToken)
    {
        var (name, version) = Parse(reference);
        var store = RequireRegistry();
        var row = await store.GetAsync(team, name, version, cancellationToken)
                  ?? throw new Grpc.Core.RpcException(new Grpc.Core.Status(Grpc.Core.StatusCode.NotFound, NoDataset(reference)));
        return (row, await store.EntriesAsync(team, row.Name, row.Version, 0, row.ImageCount, cancellationToken));
    }

    /// <returns>How many versions were removed.</returns>
    public async Task<int> DeleteAsync(string reference, string team, CancellationToken cancellationToken)
    {
        var (name, version) = Parse(reference);
        var removed = await RequireRegistry().RemoveAsync(team, name, version, cancellationToken);
        if (removed == 0) GrpcErrors.NotFound(NoDataset(reference));
        return removed;
    }

    private async Task<bool> MayUseAsync(string sha256, Caller caller, CancellationToken cancellationToken) =>
        await artifacts.ExistsAsync(sha256, cancellationToken)
        && (caller.Admin || users is null || await users.MayUseAsync(sha256, caller.Name, caller.Team, cancellationToken));

    private IDatasetRegistry RequireRegistry()
    {
        if (registry is null) GrpcErrors.FailedPrecondition("this node has no database, so no datasets; ask a gateway node");
        return registry;
    }

    private static List<DatasetEntryRow> CheckEntries(IReadOnlyList<DatasetEntry> entries)
    {
        if (entries.Count == 0) GrpcErrors.InvalidArgument("a dataset needs at least one image");
        if (entries.Count > MaxImages)
            GrpcErrors.InvalidArgument($"the dataset has {entries.Count:N0} images; a dataset holds at most {MaxImages:N0}");
        var fileNames = new HashSet<string>(StringComparer.Ordinal);
        var rows = new List<DatasetEntryRow>(entries.Count);
        foreach (var entry in entries)
        {
            if (!ContentHash.IsWellFormed(entry.ImageSha256))
                GrpcErrors.InvalidArgument($"entry '{Truncate(entry.FileName)}': image_sha256 '{Truncate(entry.ImageSha256)}' is not a sha256 from UploadImage");
            CheckFileName(entry.FileName);
            if (!fileNames.Add(entry.FileName))
                GrpcErrors.InvalidArgument($"two entries are named '{entry.FileName}'; file names in a dataset are unique (each image's results go under its name)");
            CheckLabel(entry.FileName, entry.Label);
            rows.Add(new DatasetEntryRow(entry.ImageSha256, entry.FileName, entry.Label));
        }
        return rows;
    }

    private static void CheckFileName(string fileName)
    {
        if (fileName.Length == 0) GrpcErrors.InvalidArgument("an entry has no file_name");
        if (fileName.Length > MaxFileNameLength)
            GrpcErrors.InvalidArgument($"file name '{Truncate(fileName)}' is longer than {MaxFileNameLength} characters");
        if (fileName is "." or ".." || fileName.Any(c => c is '/' or '\\' || char.IsControl(c)))
            GrpcErrors.InvalidArgument($"file name '{Printable(fileName)}' must be a plain file name: no '/', '\\' or control characters, not . or ..");
    }

    private static void CheckLabel(string fileName, string label)
    {
        if (label.Length > MaxLabelLength)
            GrpcErrors.InvalidArgument($"the label of '{fileName}' has {label.Length} characters; a label has at most {MaxLabelLength}");
        if (label.Any(char.IsControl))
            GrpcErrors.InvalidArgument($"the label of '{fileName}' ('{Printable(label)}') contains a control character (a line break or tab?)");
        if (label.Length > 0 && label.Trim().Length != label.Length)
            GrpcErrors.InvalidArgument($"the label of '{fileName}' ('{label}') starts or ends with white space");
    }

    private static (string Name, int? Version) Parse(string reference)
    {
        var colon = reference.LastIndexOf(':');
        if (colon < 0)
        {
            CheckName(reference);
            return (reference, null);
        }
        var name = reference[..colon];
        CheckName(name);
        if (!int.TryParse(reference.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var version) || version < 1)
            GrpcErrors.InvalidArgument($"'{Truncate(reference)}' is not name or name:version with a version 1, 2, …");
        return (name, version);
    }

    private static void CheckName(string name)
    {
        if (name.Length is 0 or > 64 || !NamePattern().IsMatch(name))
            GrpcErrors.InvalidArgument(
                $"dataset name '{Truncate(name)}' must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit");
    }

    private static string NoDataset(string reference) =>
        $"no dataset {Truncate(reference)}; `lantern datasets list` shows them, `lantern datasets create` makes one";

    private static string Truncate(string value) => value.Length <= 100 ? value : value[..100] + "…";

    private static string Printable(string value) => Truncate(new string([.. value.Select(c => char.IsControl(c) ? '?' : c)]));

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    private static partial Regex NamePattern();

    private static Dataset ToApi(DatasetRow row) => new()
    {
        Name = row.Name, Version = row.Version, Team = row.Team, ImageCount = row.ImageCount, LabelledCount = row.LabelledCount,
        ContentSha256 = row.ContentSha256, CreatedBy = row.CreatedBy, CreatedUnixMs = row.CreatedUnixMs,
    };
}
