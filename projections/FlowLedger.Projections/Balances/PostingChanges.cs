using FlowLedger.Domain;
using Marten;
using NodaTime;

namespace FlowLedger.Projections.Balances;

/// <summary>
/// The rows one projection batch closes and opens, written as three set-based statements instead of
/// one per row: close the stored rows of events whose postings changed, insert the new rows, then close
/// the new rows that a later instant of the same batch already replaced.
/// </summary>
internal sealed class PostingChanges
{
    private sealed class Row(string streamKey, Guid eventId, long sequence, int ordinal, DateTimeOffset knownFrom, LocalDate effectiveOn, Posting posting)
    {
        public string StreamKey { get; } = streamKey;
        public Guid EventId { get; } = eventId;
        public long Sequence { get; } = sequence;
        public int Ordinal { get; } = ordinal;
        public DateTimeOffset KnownFrom { get; } = knownFrom;
        public DateTimeOffset? KnownTo { get; set; }
        public LocalDate EffectiveOn { get; } = effectiveOn;
        public Posting Posting { get; } = posting;
    }

    private readonly Dictionary<Guid, DateTimeOffset> _closeStored = new();
    private readonly Dictionary<Guid, List<Row>> _openedHere = new();
    private readonly List<Row> _rows = [];

    public void Close(Guid eventId, DateTimeOffset knownTo)
    {
        // An event opened in this batch had its stored rows closed when it was opened again.
        if (_openedHere.Remove(eventId, out var rows))
        {
            rows.ForEach(row => row.KnownTo = knownTo);
            return;
        }
        _closeStored.TryAdd(eventId, knownTo);
    }

    /// <param name="sequence">The event's <see cref="RecordedEntry.Sequence"/>: its global sequence, or for an event of this
    /// batch not stored yet, <see cref="RecordedEntry.Unstored"/> plus its stream version.</param>
    public void Open(string streamKey, Guid eventId, long sequence, DateTimeOffset knownFrom, LocalDate effectiveOn, IReadOnlyList<Posting> postings)
    {
        var rows = postings.Select((posting, ordinal) => new Row(streamKey, eventId, sequence, ordinal, knownFrom, effectiveOn, posting)).ToList();
        _rows.AddRange(rows);
        _openedHere[eventId] = rows;
    }

    public void Queue(IDocumentOperations operations, string schema)
    {
        var table = $"{schema}.{PostingsTable.Name}";
        if (_closeStored.Count > 0)
        {
            operations.QueueSqlCommand(
                $"update {table} set known_to = c.known_to from unnest(?::uuid[], ?::timestamptz[]) as c(event_id, known_to) " +
                $"where {table}.event_id = c.event_id and {table}.known_to is null",
                _closeStored.Keys.ToArray(), _closeStored.Values.ToArray());
        }
        // A row closed at the instant it opened was never visible: it need not be stored.
        var rows = _rows.Where(r => r.KnownTo != r.KnownFrom).ToList();
        if (rows.Count > 0)
        {
            // Two writes recorded at the same instant: the later one's view of that instant replaces the earlier's.
            // An event of this batch has no sequence yet when the projection runs; the events are written earlier in the
            // same batch, so the statement looks it up by stream and version (a unique index) as the rows go in.
            operations.QueueSqlCommand(
                $"insert into {table} (event_id, ordinal, known_from, stream_key, effective_on, layer, asset, from_party, to_party, quantity, event_sequence) " +
                "select r.event_id, r.ordinal, r.known_from, r.stream_key, r.effective_on, r.layer, r.asset, r.from_party, r.to_party, r.quantity, " +
                $"case when r.sequence < {RecordedEntry.Unstored} then r.sequence " +
                $"else (select e.seq_id from {schema}.mt_events e where e.stream_id = r.stream_key and e.version = r.sequence - {RecordedEntry.Unstored}) end " +
                "from unnest(?::uuid[], ?::int[], ?::timestamptz[], ?::text[], ?::date[], ?::text[], ?::text[], ?::text[], ?::text[], ?::numeric[], ?::bigint[]) " +
                "as r(event_id, ordinal, known_from, stream_key, effective_on, layer, asset, from_party, to_party, quantity, sequence) " +
                "on conflict (event_id, ordinal, known_from) do update set known_to = null, effective_on = excluded.effective_on, " +
                "layer = excluded.layer, asset = excluded.asset, from_party = excluded.from_party, to_party = excluded.to_party, " +
                "quantity = excluded.quantity, event_sequence = excluded.event_sequence",
                rows.Select(r => r.EventId).ToArray(), rows.Select(r => r.Ordinal).ToArray(), rows.Select(r => r.KnownFrom).ToArray(),
                rows.Select(r => r.StreamKey).ToArray(), rows.Select(r => r.EffectiveOn.ToDateOnly()).ToArray(),
                rows.Select(r => PostingsTable.LayerName(r.Posting.Layer)).ToArray(), rows.Select(r => r.Posting.Asset).ToArray(),
                rows.Select(r => r.Posting.From).ToArray(), rows.Select(r => r.Posting.To).ToArray(), rows.Select(r => r.Posting.Quantity).ToArray(),
                rows.Select(r => r.Sequence).ToArray());
        }
        var closedHere = rows.Where(r => r.KnownTo is not null).ToList();
        if (closedHere.Count > 0)
        {
            operations.QueueSqlCommand(
                $"update {table} set known_to = c.known_to from unnest(?::uuid[], ?::int[], ?::timestamptz[], ?::timestamptz[]) as c(event_id, ordinal, known_from, known_to) " +
                $"where {table}.event_id = c.event_id and {table}.ordinal = c.ordinal and {table}.known_from = c.known_from",
                closedHere.Select(r => r.EventId).ToArray(), closedHere.Select(r => r.Ordinal).ToArray(),
                closedHere.Select(r => r.KnownFrom).ToArray(), closedHere.Select(r => r.KnownTo!.Value).ToArray());
        }
    }
}
