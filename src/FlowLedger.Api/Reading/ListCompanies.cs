using FlowLedger.Domain;
using FlowLedger.Projections;
using Marten;
using NodaTime;
using Wolverine.Http;

namespace FlowLedger.Api.Reading;

public static class ListCompaniesEndpoint
{
    public sealed record CompanyView(string CompanyId, string Name, CompanyKind Kind, string? Ticker, Money? OpeningCash, LocalDate RegisteredOn);

    [WolverineGet("/api/companies", OperationId = "ListCompanies")]
    [Tags("Reading")]
    public static async Task<IReadOnlyList<CompanyView>> Get(IQuerySession session, CancellationToken ct)
    {
        var companies = await session.Query<CompanyProfile>().OrderBy(c => c.CompanyId).ToListAsync(ct);
        return companies.Select(c => new CompanyView(c.CompanyId, c.Name, c.Kind, c.Ticker, c.OpeningCash, c.RegisteredOn)).ToList();
    }
}
