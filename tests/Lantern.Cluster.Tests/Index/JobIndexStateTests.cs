using Lantern.Contracts.Messages;
using Lantern.Coordinator.Index;

namespace Lantern.Cluster.Tests.Index;

/// <summary>The job index's pure state: rows in, pages out.</summary>
public sealed class JobIndexStateTests
{
    private static JobIndexRow Row(string id, long submitted, IndexedJobPhase phase = IndexedJobPhase.Done, string owner = "ann",
        string team = "vision", string model = "m1", long version = 5) => new()
    {
        JobId = id, SubmittedUnixMs = submitted, Phase = phase, Owner = owner, Team = team, ModelSha256 = model, Version = version,
    };

    private static JobIndexState With(IEnumerable<JobIndexRow> rows)
    {
        var state = new JobIndexState();
        foreach (var row in rows) state.Apply(new JobIndexUpdated { Row = row });
        return state;
    }

    private static readonly IndexViewer Everyone = new() { Everyone = true };

    [Fact]
    public void Pages_list_every_job_once_newest_first_even_when_submission_times_tie()
    {
        // 250 jobs, three per millisecond: ties are broken by job id, so the order is total.
        var state = With(Enumerable.Range(0, 250).Select(i => Row($"job{i:D3}", 1000 + i / 3)));
        var seen = new List<JobIndexRow>();
        var token = "";
        var pages = 0;
        do
        {
            var page = state.Query(new QueryJobIndex { Viewer = Everyone, PageSize = 100, PageToken = token });
            seen.AddRange(page.Rows);
            token = page.NextPageToken;
            pages++;
        } while (token.Length > 0);

        Assert.Equal(3, pages);
        Assert.Equal(250, seen.Select(r => r.JobId).Distinct().Count());
        var expected = seen.OrderByDescending(r => r.SubmittedUnixMs).ThenBy(r => r.JobId, StringComparer.Ordinal).Select(r => r.JobId);
        Assert.Equal(expected, seen.Select(r => r.JobId));
        Assert.Equal("job249", seen[0].JobId);
    }

    [Fact]
    public void A_job_submitted_between_two_pages_does_not_shift_the_next_page()
    {
        var state = With(Enumerable.Range(0, 10).Select(i => Row($"j{i}", 100 + i)));
        var first = state.Query(new QueryJobIndex { Viewer = Everyone, PageSize = 4 });
        state.Apply(new JobIndexUpdated { Row = Row("newest", 999) });
        var second = state.Query(new QueryJobIndex { Viewer = Everyone, PageSize = 4, PageToken = first.NextPageToken });
        Assert.Equal(["j9", "j8", "j7", "j6"], first.Rows.Select(r => r.JobId));
        Assert.Equal(["j5", "j4", "j3", "j2"], second.Rows.Select(r => r.JobId));
    }

    [Fact]
    public void Filters_combine_state_owner_team_model_and_submission_window()
    {
        var state = With([
            Row("a", 10, IndexedJobPhase.Done, owner: "ann", model: "m1"),
            Row("b", 20, IndexedJobPhase.Running, owner: "ann", model: "m2"),
            Row("c", 30, IndexedJobPhase.Failed, owner: "bob", team: "audio", model: "m1"),
            Row("d", 40, IndexedJobPhase.Done, owner: "bob", team: "audio", model: "M1"),
        ]);
        string[] Ids(QueryJobIndex q)
        {
            q.Viewer ??= Everyone;
            return [.. state.Query(q).Rows.Select(r => r.JobId)];
        }

        Assert.Equal(["d", "a"], Ids(new QueryJobIndex { Phases = { IndexedJobPhase.Done } }));
        Assert.Equal(["d", "c", "a"], Ids(new QueryJobIndex { Phases = { IndexedJobPhase.Done, IndexedJobPhase.Failed } }));
        Assert.Equal(["b", "a"], Ids(new QueryJobIndex { Owner = "ann" }));
        Assert.Equal(["d", "c"], Ids(new QueryJobIndex { Team = "audio" }));
        Assert.Equal(["d", "c", "a"], Ids(new QueryJobIndex { ModelSha256 = "m1" })); // hashes compare case-insensitively
        Assert.Equal(["c", "b"], Ids(new QueryJobIndex { SubmittedAfterUnixMs = 20, SubmittedBeforeUnixMs = 40 }));
        Assert.Equal(["d"], Ids(new QueryJobIndex { Owner = "bob", Phases = { IndexedJobPhase.Done } }));
    }

    [Fact]
    public void A_viewer_sees_their_own_and_their_teams_jobs_and_nobody_elses()
    {
        var state = With([
            Row("mine", 1, owner: "ann", team: "vision"),
            Row("teammate", 2, owner: "cat", team: "vision"),
            Row("stranger", 3, owner: "bob", team: "audio"),
            Row("teamless", 4, owner: "dan", team: ""),
        ]);
        string[] Seen(IndexViewer viewer) => [.. state.Query(new QueryJobIndex { Viewer = viewer }).Rows.Select(r => r.JobId)];

        Assert.Equal(["teammate", "mine"], Seen(new IndexViewer { User = "ann", Team = "vision" }));
        Assert.Equal(["teamless"], Seen(new IndexViewer { User = "dan", Team = "" })); // "" is no team, not a team of the teamless
        Assert.Equal(["teamless", "stranger", "teammate", "mine"], Seen(Everyone));
    }

    [Fact]
    public void An_older_row_never_replaces_a_newer_one_and_only_phase_changes_are_durable()
    {
        var state = With([Row("j", 1, IndexedJobPhase.Running, version: 10)]);
        Assert.False(state.Upsert(Row("j", 1, IndexedJobPhase.Queued, version: 3)));
        Assert.Equal(IndexedJobPhase.Running, state.Find("j")!.Phase);

        var progress = Row("j", 1, IndexedJobPhase.Running, version: 20);
        progress.ItemsDone = 7;
        Assert.False(state.IsDurableChange(progress)); // progress alone lives in memory
        Assert.True(state.IsDurableChange(Row("j", 1, IndexedJobPhase.Done, version: 30)));
        Assert.False(state.IsDurableChange(Row("j", 1, IndexedJobPhase.Done, version: 2))); // stale
        Assert.True(state.IsDurableChange(Row("new", 1)));
    }

    [Fact]
    public void A_snapshot_restores_the_same_rows_and_the_backfill_mark()
    {
        var state = With(Enumerable.Range(0, 20).Select(i => Row($"j{i}", i % 7, version: i)));
        state.Apply(new JobIndexRemoved { JobId = "j3" });
        state.Apply(new JobIndexBackfilled());
        var restored = new JobIndexState().Apply(state.ToSnapshot());

        var all = new QueryJobIndex { Viewer = Everyone, PageSize = 1000 };
        Assert.Equal(state.Query(all), restored.Query(all));
        Assert.True(restored.Backfilled);
        Assert.Equal(19, restored.Count);
    }

    [Fact]
    public void A_page_token_the_index_never_handed_out_is_refused()
    {
        var state = With([Row("j", 1)]);
        Assert.Throws<ArgumentException>(() => state.Query(new QueryJobIndex { Viewer = Everyone, PageToken = "not base64!" }));
        Assert.Empty(state.Query(new QueryJobIndex { Viewer = Everyone, PageToken = Convert.ToBase64String("0:zzz"u8.ToArray()) }).Rows);
    }
}
