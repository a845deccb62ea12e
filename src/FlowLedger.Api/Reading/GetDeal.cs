using FlowLedger.Api.Ledger;
using FlowLedger.Domain;
using FlowLedger.Projections;
using Marten;
using NodaTime;
using Wolverine.Http;

namespace FlowLedger.Api.Reading;

/// <summary>GET /api/deals/{dealId}?asOf=&amp;knownAt= — the deal as it stood on a day, as known at an instant.</summary>
public static class GetDealEndpoint
{
    public sealed record DealView(
        string DealId, LocalDate? AsOf, Instant KnownAt, long Version, int Events, LocalDate? CancelledOn,
        IReadOnlyCollection<string> Parties,
        IReadOnlyList<AnnouncementView> Announced,
        IReadOnlyList<CommitmentView> Commitments,
        IReadOnlyList<WarrantPosition> Warrants,
        IReadOnlyList<Purchase> Purchases,
        IReadOnlyList<LoanView> Loans);

    public sealed record AnnouncementView(string Investor, string Investee, string Currency, Instrument Instrument, decimal UpTo, decimal Funded, decimal Outstanding);

    public sealed record CommitmentView(string From, string To, string Currency, decimal Committed, decimal Released, decimal Outstanding);

    public sealed record LoanView(string Lender, string Borrower, string Currency, decimal Drawn, decimal Repaid, decimal Outstanding);

    [WolverineGet("/api/deals/{dealId}", OperationId = "GetDeal")]
    [Tags("Reading")]
    public static async Task<IResult> Get(string dealId, string? asOf, string? knownAt, IQuerySession session, IClock clock, CancellationToken ct)
    {
        var point = TimeQuery.Parse(asOf, knownAt, clock);
        return await ViewAsync(session, dealId, point, ct) is { } view
            ? Results.Ok(view)
            : Problems.NotFound($"No deal '{dealId}' is recorded as known at {point.KnownAt}.");
    }

    /// <summary>The deal at a point in time; null when nothing of it was known then.</summary>
    public static async Task<DealView?> ViewAsync(IQuerySession session, string dealId, PointInTime point, CancellationToken ct)
    {
        var events = await session.Events.FetchStreamAsync(dealId, token: ct);
        var history = events.Select(e => e.ToRecordedEntry()).ToList();
        var known = history.Where(e => e.RecordedAt <= point.KnownAt).ToList();
        if (known.Count == 0)
        {
            return null;
        }
        var visible = point.Visible(known);
        var book = DealBook.Fold(visible);
        return new DealView(
            dealId, point.AsOf, point.KnownAt!.Value,
            Version: events.Where(e => e.Timestamp <= point.KnownAt.Value.ToDateTimeOffset()).Max(e => e.Version),
            visible.Count, book.CancelledOn, book.Parties,
            book.Announcements.Select(a => new AnnouncementView(a.Flow.From, a.Flow.To, a.Flow.Currency, a.Instrument, a.UpTo, book.FundedOn(a.Flow),
                Outstanding: book.Commitments.FirstOrDefault(c => c.Flow == a.Flow)?.Outstanding ?? 0m)).ToList(),
            book.Commitments.Select(c => new CommitmentView(c.Flow.From, c.Flow.To, c.Flow.Currency, c.Committed, c.Released, c.Outstanding)).ToList(),
            book.Warrants.ToList(),
            book.Purchases,
            book.Loans.Select(l => new LoanView(l.Flow.From, l.Flow.To, l.Flow.Currency, l.Drawn, l.Repaid, l.Outstanding)).ToList());
    }
}
