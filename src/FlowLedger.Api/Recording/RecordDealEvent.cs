using FlowLedger.Api.Ledger;
using FlowLedger.Domain;
using Wolverine.Http;

namespace FlowLedger.Api.Recording;

/// <summary>
/// POST /api/deals/{dealId}/events — records one event of a deal: <c>{"type": "InvestmentFunded", ...fields}</c>,
/// with an optional <c>expectedVersion</c> (the deal's version the client last saw) and an optional
/// Idempotency-Key header.
/// </summary>
public static class RecordDealEventEndpoint
{
    [WolverinePost("/api/deals/{dealId}/events", OperationId = "RecordDealEvent")]
    [Tags("Recording")]
    public static async Task<IResult> Post(string dealId, HttpContext context, GroupCommit groupCommit, CancellationToken ct)
    {
        var body = await RequestContext.ReadBodyAsync(context.Request, ct);
        var fields = LedgerJson.ParseObject(body);
        var expectedVersion = LedgerJson.TakeOptional<long?>(fields, "expectedVersion");
        var recorded = LedgerJson.ReadEvent(fields);
        if (recorded is CompanyRegistered)
        {
            return Problems.Malformed("A company is registered with POST /api/companies, not inside a deal.");
        }
        var entry = new PendingEntry(dealId, recorded, expectedVersion, RequestContext.IdempotencyOf(context.Request, body));
        return await RecordingAnswers.RecordOneAsync(groupCommit, entry, context, ct);
    }
}

/// <summary>How every single-event write answers: 201 with the acknowledgement, or the refusal.</summary>
public static class RecordingAnswers
{
    public static async Task<IResult> RecordOneAsync(GroupCommit groupCommit, PendingEntry entry, HttpContext context, CancellationToken ct)
    {
        var outcome = await groupCommit.RecordAsync(entry, RequestContext.RecordedBy(context), ct);
        return outcome switch
        {
            RecordOutcome.Recorded { Acknowledgements: [var ack] } => Results.Created($"/api/events?afterSequence={ack.Sequence - 1}&limit=1", ack),
            RecordOutcome.Refused refused => Problems.For(refused.Breaks.Select(b => b.Break).ToList()),
            _ => throw new InvalidOperationException("One entry recorded must give one acknowledgement."),
        };
    }
}
