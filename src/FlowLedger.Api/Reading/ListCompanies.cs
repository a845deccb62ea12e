using FlowLedger.Projections;
using Marten;
using Wolverine.Http;

namespace FlowLedger.Api.Reading;

public static class ListCompaniesEndpoint
{
    [WolverineGet("/api/companies", OperationId = "ListCompanies")]
    public static async Task<IReadOnlyList<CompanyProfile>> Get(IQuerySession session, CancellationToken ct) =>
        await session.Query<CompanyProfile>().OrderBy(c => c.CompanyId).ToListAsync(ct);
}
