using FlowLedger.Domain;
using FlowLedger.Projections;
using FlowLedger.Projections.Balances;
using Marten;

namespace FlowLedger.Api.Reading;

/// <summary>The whole ledger folded from scratch at a point in time, for the analyses that follow money event by event.</summary>
public static class LedgerHistory
{
    public static async Task<IReadOnlyList<FoldStep>> StepsAsync(IQuerySession session, PointInTime at, CancellationToken ct)
    {
        var events = await session.Events.QueryAllRawEvents().ToListAsync(ct);
        return LedgerFold.Steps(events.LedgerEventsOnly().Select(e => (e.StreamKey!, e.ToRecordedEntry())), at).ToList();
    }
}
