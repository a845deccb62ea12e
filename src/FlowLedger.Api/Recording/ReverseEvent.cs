using FlowLedger.Api.Ledger;
using FlowLedger.Domain;
using Marten;
using Wolverine.Http;

namespace FlowLedger.Api.Recording;

/// <summary>
/// POST /api/events/{eventId}/reversal — takes back a recorded event with <c>{"reason"}</c>. The reversal
/// joins the target's deal, effective on the target's day (SPEC §4).
/// </summary>
public static class ReverseEventEndpoint
{
    public sealed record ReversalRequest(string Reason, string? Source = null, string? Note = null);

    [WolverinePost("/api/events/{eventId}/reversal", OperationId = "ReverseEvent")]
    [Tags("Recording")]
    public static async Task<IResult> Post(string eventId, HttpContext context, IQuerySession session, GroupCommit groupCommit, CancellationToken ct)
    {
        if (!Guid.TryParse(eventId, out var targetId))
        {
            return Problems.Malformed($"'{eventId}' is not an event id.");
        }
        var body = await RequestContext.ReadBodyAsync(context.Request, ct);
        var request = LedgerJson.ReadBody<ReversalRequest>(LedgerJson.ParseObject(body));
        var target = await session.Events.LoadAsync(targetId, ct);
        if (target is null)
        {
            return Problems.NotFound($"No event {targetId} is recorded.");
        }
        if (target.Data is not IDealEvent dealEvent)
        {
            return Problems.For([RuleBreak.Broken("A company registration cannot be reversed; correct its cash with revenue or expense entries.")]);
        }
        var reversal = new EntryReversed(targetId, request.Reason, dealEvent.EffectiveOn, request.Source, request.Note);
        var entry = new PendingEntry(target.StreamKey, reversal, Idempotency: RequestContext.IdempotencyOf(context.Request, body));
        return await RecordingAnswers.RecordOneAsync(groupCommit, entry, context, ct);
    }
}
