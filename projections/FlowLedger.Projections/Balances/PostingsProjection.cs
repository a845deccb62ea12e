using FlowLedger.Domain;
using JasperFx.Events;
using Marten;
using Marten.Events.Projections;
using NodaTime;

namespace FlowLedger.Projections.Balances;

/// <summary>
/// Keeps <see cref="PostingsTable"/>: whenever a deal learns something (a new event, a backdated one,
/// a reversal), the deal is folded as known just before and just after, and the events whose
/// postings changed get their old rows closed and new rows opened at that recorded instant. A
/// backdated payment can change the commitment release of later payments; this catches that too.
/// </summary>
/// <param name="known">The writers' histories of deals, so that a deal written to inline need not be read again.</param>
public sealed class PostingsProjection(string schema, IKnownHistories? known = null) : IProjection
{
    public async Task ApplyAsync(IDocumentOperations operations, IReadOnlyList<IEvent> events, CancellationToken ct)
    {
        var changes = new PostingChanges();
        foreach (var stream in events.LedgerEventsOnly().GroupBy(e => e.StreamKey!))
        {
            var batch = stream.OrderBy(e => e.Version).ToList();
            if (batch[0].Data is CompanyRegistered)
            {
                foreach (var e in batch)
                {
                    var registration = (CompanyRegistered)e.Data;
                    changes.Open(e.StreamKey!, e.Id, e.ToRecordedEntry().Sequence, e.Timestamp, registration.EffectiveOn, RegistrationPostings.Of(registration));
                }
                continue;
            }
            await ApplyDealAsync(operations, changes, stream.Key, batch, ct);
        }
        changes.Queue(operations, schema);
    }

    private async Task ApplyDealAsync(IDocumentOperations operations, PostingChanges changes, string dealId, List<IEvent> batch, CancellationToken ct)
    {
        // Inline, the batch is not stored yet; rebuilding, later events are. Versions tell what came before either way,
        // and a batch that starts the deal has nothing before it to read.
        var history = batch[0].Version <= 1
            ? []
            : known?.Before(dealId, batch[0].Version)?.ToList()
              ?? (await operations.Events.FetchStreamAsync(dealId, token: ct)).Where(e => e.Version < batch[0].Version).Select(e => e.ToRecordedEntry()).ToList();

        foreach (var learned in batch.GroupBy(e => e.Timestamp))
        {
            var before = PostingsByEvent(history);
            history.AddRange(learned.Select(e => e.ToRecordedEntry()));
            var after = PostingsByEvent(history);

            foreach (var eventId in before.Keys.Union(after.Keys))
            {
                var was = before.GetValueOrDefault(eventId);
                var now = after.GetValueOrDefault(eventId);
                if (was is not null && now is not null && was.Postings.SequenceEqual(now.Postings))
                {
                    continue;
                }
                if (was is not null)
                {
                    changes.Close(eventId, learned.Key);
                }
                if (now is not null)
                {
                    changes.Open(dealId, eventId, now.Sequence, learned.Key, now.EffectiveOn, now.Postings);
                }
            }
        }
    }

    private sealed record EventPostings(long Sequence, LocalDate EffectiveOn, IReadOnlyList<Posting> Postings);

    /// <summary>The postings of every event of the deal that is visible as known now, by event.</summary>
    private static Dictionary<Guid, EventPostings> PostingsByEvent(IReadOnlyList<RecordedEntry> history)
    {
        var book = new DealBook();
        return PointInTime.Latest.Visible(history)
            .ToDictionary(e => e.EventId, e => new EventPostings(e.Sequence, e.EffectiveOn, book.Apply((IDealEvent)e.Event).Postings));
    }
}
