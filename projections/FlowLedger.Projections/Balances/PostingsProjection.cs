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
public sealed class PostingsProjection(string schema) : IProjection
{
    public async Task ApplyAsync(IDocumentOperations operations, IReadOnlyList<IEvent> events, CancellationToken ct)
    {
        foreach (var stream in events.GroupBy(e => e.StreamKey!))
        {
            var batch = stream.OrderBy(e => e.Version).ToList();
            if (batch[0].Data is CompanyRegistered)
            {
                foreach (var e in batch)
                {
                    var registration = (CompanyRegistered)e.Data;
                    Open(operations, e.StreamKey!, e.Id, e.Timestamp, new EventPostings(registration.EffectiveOn, RegistrationPostings.Of(registration)));
                }
                continue;
            }
            await ApplyDealAsync(operations, stream.Key, batch, ct);
        }
    }

    private async Task ApplyDealAsync(IDocumentOperations operations, string dealId, List<IEvent> batch, CancellationToken ct)
    {
        // Inline, the batch is not stored yet; rebuilding, later events are. Versions tell what came before either way.
        var stored = await operations.Events.FetchStreamAsync(dealId, token: ct);
        var history = stored.Where(e => e.Version < batch[0].Version).Select(e => e.ToRecordedEntry()).ToList();

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
                    operations.QueueSqlCommand(
                        $"update {schema}.{PostingsTable.Name} set known_to = ? where event_id = ? and known_to is null",
                        learned.Key, eventId);
                }
                if (now is not null)
                {
                    Open(operations, dealId, eventId, learned.Key, now);
                }
            }
        }
    }

    private sealed record EventPostings(LocalDate EffectiveOn, IReadOnlyList<Posting> Postings);

    /// <summary>The postings of every event of the deal that is visible as known now, by event.</summary>
    private static Dictionary<Guid, EventPostings> PostingsByEvent(IReadOnlyList<RecordedEntry> history)
    {
        var book = new DealBook();
        return PointInTime.Latest.Visible(history)
            .ToDictionary(e => e.EventId, e => new EventPostings(e.EffectiveOn, book.Apply((IDealEvent)e.Event).Postings));
    }

    private void Open(IDocumentOperations operations, string streamKey, Guid eventId, DateTimeOffset knownFrom, EventPostings postings)
    {
        for (var ordinal = 0; ordinal < postings.Postings.Count; ordinal++)
        {
            var p = postings.Postings[ordinal];
            // Two writes recorded at the same instant: the later one's view of that instant replaces the earlier's.
            operations.QueueSqlCommand(
                $"insert into {schema}.{PostingsTable.Name} " +
                "(event_id, ordinal, known_from, stream_key, effective_on, layer, asset, from_party, to_party, quantity) " +
                "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) " +
                "on conflict (event_id, ordinal, known_from) do update set known_to = null, effective_on = excluded.effective_on, " +
                "layer = excluded.layer, asset = excluded.asset, from_party = excluded.from_party, to_party = excluded.to_party, " +
                "quantity = excluded.quantity",
                eventId, ordinal, knownFrom, streamKey, postings.EffectiveOn.ToDateOnly(),
                PostingsTable.LayerName(p.Layer), p.Asset, p.From, p.To, p.Quantity);
        }
    }
}
