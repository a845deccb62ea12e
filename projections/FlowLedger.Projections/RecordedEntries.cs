using FlowLedger.Domain;
using JasperFx.Events;
using NodaTime;

namespace FlowLedger.Projections;

public static class RecordedEntries
{
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
