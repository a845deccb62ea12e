using System.Text.Json;
using FlowLedger.Api.Ledger;
using FlowLedger.Api.Reading;
using FlowLedger.Domain;
using FlowLedger.Projections.Balances;
using Marten;
using NodaTime;
using Npgsql;

namespace FlowLedger.Api.Live;

/// <summary>
/// One message for subscribers: the sequence of the event that caused it, the topic it belongs to, its
/// kind (<c>event</c>, <c>balance</c>, <c>deal</c>, <c>loops</c>) and the new state as JSON.
/// </summary>
public sealed record LiveUpdate(long Sequence, Topic Topic, string Kind, string Json);

/// <summary>
/// Turns recorded events into the updates of SPEC §8. Every state is computed as known at the recorded
/// instant of the event that caused it, so the same events give the same updates on every node, live or
/// replayed after a reconnect. State topics are coalesced per batch: one update per company, deal or loop
/// set, at the last event of the batch that changed it — a subscriber always ends on the latest state.
/// </summary>
public static class LiveUpdates
{
    public static async Task<IReadOnlyList<LiveUpdate>> BuildAsync(
        IDocumentStore store, IReadOnlyList<ListEventsEndpoint.RecordedEventView> events, TopicSet topics, CancellationToken ct)
    {
        var updates = new List<LiveUpdate>();
        if (events.Count == 0)
        {
            return updates;
        }
        if (topics.Contains(new Topic(Topic.Events)))
        {
            updates.AddRange(events.Select(e => Update(e.Sequence, new Topic(Topic.Events), "event", e)));
        }

        await using var session = store.QuerySession();
        foreach (var last in LastPerKey(events, e => e.DealId is { } deal ? [deal] : []))
        {
            var topic = new Topic(Topic.Deal, last.Key);
            if (topics.Contains(topic) && await GetDealEndpoint.ViewAsync(session, last.Key, KnownAt(last.Value), ct) is { } deal)
            {
                updates.Add(Update(last.Value.Sequence, topic, "deal", deal));
            }
        }

        var wantedCompanies = topics.All.Where(t => t.Kind == Topic.Company).ToList();
        if (wantedCompanies.Count > 0)
        {
            var partiesOfReversed = await PartiesOfReversedAsync(store, events, ct);
            var touched = LastPerKey(events, e => PartiesOf(e, partiesOfReversed));
            foreach (var topic in wantedCompanies)
            {
                if (touched.TryGetValue(topic.Id!, out var last))
                {
                    var at = KnownAt(last);
                    var totals = await PostingsQuery.TotalsAsync(store, at.AsOf, at.KnownAt!.Value, topic.Id, ct);
                    updates.Add(Update(last.Sequence, topic, "balance", GetBalancesEndpoint.BalanceView.Of(BalanceSheet.For(topic.Id!, totals), at)));
                }
            }
        }

        if (topics.Contains(new Topic(Topic.Loops)))
        {
            var last = events[^1];
            var at = KnownAt(last);
            updates.Add(Update(last.Sequence, new Topic(Topic.Loops), "loops", new LoopsState(
                at.KnownAt!.Value,
                await GetLoopsEndpoint.ViewAsync(store, at, LoopsRequest.Default(Layer.Cash), ct),
                await GetLoopsEndpoint.ViewAsync(store, at, LoopsRequest.Default(Layer.Commitment), ct))));
        }

        // Stable: within one sequence the event comes first, then the states it changed, in the order built.
        return updates.OrderBy(u => u.Sequence).ToList();
    }

    /// <summary>The loops of both layers, with the default parameters of <c>GET /api/loops</c>.</summary>
    public sealed record LoopsState(Instant KnownAt, GetLoopsEndpoint.LoopsView Cash, GetLoopsEndpoint.LoopsView Commitment);

    private static LiveUpdate Update<T>(long sequence, Topic topic, string kind, T state) =>
        new(sequence, topic, kind, JsonSerializer.Serialize(state, LedgerJson.Options));

    private static PointInTime KnownAt(ListEventsEndpoint.RecordedEventView e) => new(AsOf: null, e.RecordedAt);

    private static Dictionary<string, ListEventsEndpoint.RecordedEventView> LastPerKey(
        IEnumerable<ListEventsEndpoint.RecordedEventView> events, Func<ListEventsEndpoint.RecordedEventView, IEnumerable<string>> keysOf)
    {
        var last = new Dictionary<string, ListEventsEndpoint.RecordedEventView>(StringComparer.Ordinal);
        foreach (var e in events)
        {
            foreach (var key in keysOf(e))
            {
                last[key] = e;
            }
        }
        return last;
    }

    private static IEnumerable<string> PartiesOf(ListEventsEndpoint.RecordedEventView e, IReadOnlyDictionary<Guid, IReadOnlyList<string>> partiesOfReversed) =>
        e.Type == nameof(EntryReversed)
            ? partiesOfReversed.GetValueOrDefault(e.Data.GetProperty("eventId").GetGuid(), [])
            : PartiesIn(e.Data);

    /// <summary>The companies an event names, read from the fields where <see cref="EventRules.PartiesOf"/> finds them.</summary>
    private static IReadOnlyList<string> PartiesIn(JsonElement data) =>
        EventRules.PartyFields
            .Select(field => data.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null)
            .OfType<string>()
            .Where(party => party != Parties.External)
            .ToList();

    /// <summary>A reversal changes the balances of the companies its target named.</summary>
    private static async Task<IReadOnlyDictionary<Guid, IReadOnlyList<string>>> PartiesOfReversedAsync(
        IDocumentStore store, IReadOnlyList<ListEventsEndpoint.RecordedEventView> events, CancellationToken ct)
    {
        var targets = events.Where(e => e.Type == nameof(EntryReversed)).Select(e => e.Data.GetProperty("eventId").GetGuid()).ToArray();
        var parties = new Dictionary<Guid, IReadOnlyList<string>>();
        if (targets.Length == 0)
        {
            return parties;
        }
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand($"select id, data from {store.Options.Events.DatabaseSchemaName}.mt_events where id = any(@ids)", connection);
        command.Parameters.AddWithValue("ids", targets);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            using var data = JsonDocument.Parse(reader.GetString(1));
            parties[reader.GetGuid(0)] = PartiesIn(data.RootElement);
        }
        return parties;
    }
}
