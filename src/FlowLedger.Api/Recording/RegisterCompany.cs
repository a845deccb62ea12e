using FlowLedger.Api.Ledger;
using FlowLedger.Domain;
using Wolverine.Http;

namespace FlowLedger.Api.Recording;

/// <summary>POST /api/companies — registers a company: the fields of <see cref="CompanyRegistered"/>.</summary>
public static class RegisterCompanyEndpoint
{
    [WolverinePost("/api/companies", OperationId = "RegisterCompany")]
    [Tags("Recording")]
    public static async Task<IResult> Post(HttpContext context, GroupCommit groupCommit, CancellationToken ct)
    {
        var body = await RequestContext.ReadBodyAsync(context.Request, ct);
        var fields = LedgerJson.ParseObject(body);
        if (fields["type"] is null)
        {
            fields["type"] = nameof(CompanyRegistered);
        }
        if (LedgerJson.ReadEvent(fields) is not CompanyRegistered registration)
        {
            return Problems.Malformed($"POST /api/companies takes a {nameof(CompanyRegistered)}; deal events go to POST /api/deals/{{dealId}}/events.");
        }
        var entry = new PendingEntry(null, registration, Idempotency: RequestContext.IdempotencyOf(context.Request, body));
        return await RecordingAnswers.RecordOneAsync(groupCommit, entry, context, ct);
    }
}
