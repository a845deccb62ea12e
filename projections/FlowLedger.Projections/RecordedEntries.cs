using FlowLedger.Domain;
using JasperFx.Events;
using NodaTime;

namespace FlowLedger.Projections;

public static class RecordedEntries
{
    /// <summary>
    /// An event as the domain sees it. An event not stored yet (an inline projection sees it before
    /// its sequence is drawn) sorts after every stored one, in stream order, which is where it will land.
    /// </summary>
    public static RecordedEntry ToRecordedEntry(this IEvent e) => new(
        e.Id,
        e.Sequence > 0 ? e.Sequence : long.MaxValue / 2 + e.Version,
        Instant.FromDateTimeOffset(e.Timestamp),
        (ILedgerEvent)e.Data);
}
