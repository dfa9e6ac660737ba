using System.Text;
using Lantern.Contracts.Messages;

namespace Lantern.Coordinator.Index;

/// <summary>
/// The job index's rows, newest submission first, and the queries over them. Pure: <see cref="Apply"/> is the only
/// mutator, <see cref="Query"/> reads. Rows carry the job entity's sequence number as their version, and an older
/// version never replaces a newer one, so re-sent or reordered rows cannot move a job backwards.
/// </summary>
public sealed class JobIndexState
{
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1000;

    private readonly Dictionary<string, JobIndexRow> _rows = new(StringComparer.Ordinal);
    private readonly SortedSet<(long Submitted, string JobId)> _order = new(NewestFirst.Instance);

    public bool Backfilled { get; private set; }
    public int Count => _rows.Count;

    public IReadOnlyCollection<string> JobIds => _rows.Keys;

    public IEnumerable<JobIndexRow> Rows => _rows.Values;

    public JobIndexRow? Find(string jobId) => _rows.GetValueOrDefault(jobId);

    /// <summary>
    /// Whether a row changes what the index must remember across a restart (a new job, a phase, an error, the
    /// finish time): progress alone does not, since running jobs re-send their rows when they wake.
    /// </summary>
    public bool IsDurableChange(JobIndexRow row) =>
        _rows.GetValueOrDefault(row.JobId) is not { } known
            ? true
            : row.Version > known.Version && (known.Phase != row.Phase || known.Error != row.Error
                                              || known.FinishedUnixMs != row.FinishedUnixMs || known.Name != row.Name);

    /// <summary>True when the row is newer than what the index holds (and was taken).</summary>
    public bool Upsert(JobIndexRow row)
    {
        if (_rows.TryGetValue(row.JobId, out var known))
        {
            if (row.Version < known.Version) return false;
            _order.Remove((known.SubmittedUnixMs, known.JobId));
        }
        _rows[row.JobId] = row;
        _order.Add((row.SubmittedUnixMs, row.JobId));
        return true;
    }

    public JobIndexState Apply(IJobIndexMessage @event)
    {
        switch (@event)
        {
            case JobIndexUpdated updated:
                Upsert(updated.Row);
                break;
            case JobIndexRemoved removed:
                if (_rows.Remove(removed.JobId, out var row)) _order.Remove((row.SubmittedUnixMs, row.JobId));
                break;
            case JobIndexBackfilled:
                Backfilled = true;
                break;
            case JobIndexSnapshot snapshot:
                _rows.Clear();
                _order.Clear();
                foreach (var r in snapshot.Rows) Upsert(r);
                Backfilled = snapshot.Backfilled;
                break;
        }
        return this;
    }

    public JobIndexSnapshot ToSnapshot() => new() { Rows = { _order.Select(k => _rows[k.JobId]) }, Backfilled = Backfilled };

    /// <summary>One page of the rows the viewer may see that pass the filters, newest submission first.</summary>
    /// <exception cref="ArgumentException">The page token is not one this index handed out.</exception>
    public JobIndexPage Query(QueryJobIndex query)
    {
        var size = query.PageSize <= 0 ? DefaultPageSize : Math.Min(query.PageSize, MaxPageSize);
        var view = _order.AsEnumerable();
        if (query.PageToken.Length > 0)
        {
            var after = DecodeToken(query.PageToken);
            view = _order.Count == 0 || NewestFirst.Instance.Compare(after, _order.Max) > 0
                ? []
                : _order.GetViewBetween(after, _order.Max).Where(k => k != after);
        }
        var page = new JobIndexPage();
        foreach (var key in view)
        {
            var row = _rows[key.JobId];
            if (!Visible(row, query.Viewer) || !Matches(row, query)) continue;
            if (page.Rows.Count == size)
            {
                var last = page.Rows[^1];
                page.NextPageToken = EncodeToken((last.SubmittedUnixMs, last.JobId));
                break;
            }
            page.Rows.Add(row);
        }
        return page;
    }

    private static bool Visible(JobIndexRow row, IndexViewer? viewer) =>
        viewer is null || viewer.Everyone || row.Owner == viewer.User || (viewer.Team.Length > 0 && row.Team == viewer.Team);

    private static bool Matches(JobIndexRow row, QueryJobIndex q) =>
        row.ParentJobId == q.ParentJobId // a dataset job's image jobs only when asked for by their dataset job
        && (q.Phases.Count == 0 || q.Phases.Contains(row.Phase))
        && (q.Owner.Length == 0 || row.Owner == q.Owner)
        && (q.Team.Length == 0 || row.Team == q.Team)
        && (q.ModelSha256.Length == 0 || string.Equals(row.ModelSha256, q.ModelSha256, StringComparison.OrdinalIgnoreCase))
        && (q.SubmittedAfterUnixMs == 0 || row.SubmittedUnixMs >= q.SubmittedAfterUnixMs)
        && (q.SubmittedBeforeUnixMs == 0 || row.SubmittedUnixMs < q.SubmittedBeforeUnixMs);

    private static string EncodeToken((long Submitted, string JobId) key) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{key.Submitted}:{key.JobId}"));

    private static (long, string) DecodeToken(string token)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(token));
            var colon = text.IndexOf(':');
            if (colon > 0 && long.TryParse(text[..colon], out var submitted)) return (submitted, text[(colon + 1)..]);
        }
        catch (FormatException)
        {
        }
        throw new ArgumentException("page_token is not one a listing returned; start again without it");
    }

    /// <summary>Newest submission first; ties by job id, so the order is total and pages never overlap.</summary>
    private sealed class NewestFirst : IComparer<(long Submitted, string JobId)>
    {
        public static readonly NewestFirst Instance = new();

        public int Compare((long Submitted, string JobId) x, (long Submitted, string JobId) y)
        {
            var bySubmitted = y.Submitted.CompareTo(x.Submitted);
            return bySubmitted != 0 ? bySubmitted : string.CompareOrdinal(x.JobId, y.JobId);
        }
    }
}
