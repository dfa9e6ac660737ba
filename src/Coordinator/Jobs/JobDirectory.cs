using Akka.Actor;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;

namespace Lantern.Coordinator.Jobs;

/// <summary>Every job ever accepted, read from the journal's persistence ids (the journal is the only record of jobs).</summary>
public sealed class JobDirectory(ActorSystem system)
{
    public async Task<IReadOnlyList<string>> JobIdsAsync(CancellationToken cancellationToken)
    {
        var journal = PersistenceQuery.Get(system).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
        var prefix = JobEntity.PersistenceIdFor("");
        var ids = await journal.CurrentPersistenceIds()
            .Where(id => id.StartsWith(prefix, StringComparison.Ordinal))
            .Select(id => id[prefix.Length..])
            .RunWith(Sink.Seq<string>(), system.Materializer());
        cancellationToken.ThrowIfCancellationRequested();
        return ids;
    }
}
