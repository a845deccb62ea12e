using FlowLedger.Domain;
using JasperFx.Events;
using NodaTime;

namespace FlowLedger.Projections;

public static class RecordedEntries
{
    /// <summary>
    /// Where Marten puts the tombstones that fill the sequences of a transaction that failed after
    /// drawing them (a duplicate idempotency key, a connection cut by a database restart). They carry
    /// no ledger fact, and every reader of the store passes over them.
    /// </summary>
    public static readonly string TombstoneStream = Tombstone.StreamKey;

    /// <summary>The events of the ledger among <paramref name="events"/>, without Marten's tombstones.</summary>
    public static IEnumerable<IEvent> LedgerEventsOnly(this IEnumerable<IEvent> events) => events.Where(e => e.StreamKey != TombstoneStream);

    /// <summary>
    /// An event as the domain sees it. An inline projection sees events before their sequence is
    /// drawn: those count as unstored, in stream order.
    /// </summary>
    public static RecordedEntry ToRecordedEntry(this IEvent e) => new(
        e.Id,
        e.Sequence > 0 ? e.Sequence : RecordedEntry.Unstored + e.Version,
        Instant.FromDateTimeOffset(e.Timestamp),
        (ILedgerEvent)e.Data);
}
