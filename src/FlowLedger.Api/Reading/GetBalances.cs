using FlowLedger.Api.Ledger;
using FlowLedger.Domain;
using FlowLedger.Projections;
using FlowLedger.Projections.Balances;
using Marten;
using NodaTime;
using Wolverine.Http;

namespace FlowLedger.Api.Reading;

/// <summary>
/// GET /api/companies/{id}/balance and GET /api/balances — positions as of a day, as known at an
/// instant (SPEC §5), summed from the postings projection without replaying the store.
/// </summary>
public static class GetBalancesEndpoint
{
    public sealed record BalanceView(
        string CompanyId, LocalDate? AsOf, Instant KnownAt,
        IReadOnlyDictionary<string, CashBalance> Cash,
        IReadOnlyDictionary<string, CommitmentBalance> Commitments,
        IReadOnlyList<Holding> Holdings,
        IReadOnlyList<Counterparty> Counterparties)
    {
        public static BalanceView Of(CompanyBalance b, PointInTime at) =>
            new(b.CompanyId, at.AsOf, at.KnownAt!.Value, b.Cash, b.Commitments, b.Holdings, b.Counterparties);
    }

    public sealed record BalancesView(LocalDate? AsOf, Instant KnownAt, IReadOnlyList<BalanceView> Companies);

    [WolverineGet("/api/companies/{companyId}/balance", OperationId = "GetBalance")]
    [Tags("Reading")]
    public static async Task<IResult> GetOne(
        string companyId, string? asOf, string? knownAt, IDocumentStore store, IQuerySession session, IClock clock, CancellationToken ct)
    {
        var at = TimeQuery.Parse(asOf, knownAt, clock);
        if (await session.LoadAsync<CompanyProfile>(CompanyProfile.StreamKeyOf(companyId), ct) is null)
        {
            return Problems.NotFound($"No company '{companyId}' is registered.");
        }
        var totals = await PostingsQuery.TotalsAsync(store, at.AsOf, at.KnownAt!.Value, companyId, ct);
        return Results.Ok(BalanceView.Of(BalanceSheet.For(companyId, totals), at));
    }

    [WolverineGet("/api/balances", OperationId = "GetBalances")]
    [Tags("Reading")]
    public static async Task<BalancesView> GetAll(
        string? asOf, string? knownAt, IDocumentStore store, IQuerySession session, IClock clock, CancellationToken ct)
    {
        var at = TimeQuery.Parse(asOf, knownAt, clock);
        var companies = await session.Query<CompanyProfile>().OrderBy(c => c.CompanyId).ToListAsync(ct);
        var totals = await PostingsQuery.TotalsAsync(store, at.AsOf, at.KnownAt!.Value, party: null, ct);
        return new BalancesView(at.AsOf, at.KnownAt.Value,
            companies.Select(c => BalanceView.Of(BalanceSheet.For(c.CompanyId, totals), at)).ToList());
    }
}
