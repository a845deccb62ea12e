using System.Text.Json;
using FlowLedger.Api.Ledger;
using FlowLedger.Domain;
using FlowLedger.Projections.Balances;
using Marten;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using NodaTime;
using Wolverine.Http;

namespace FlowLedger.Api.Reading;

/// <summary>
/// GET /api/replay?from=&amp;to=&amp;knownAt= — NDJSON: the visible events in the order of SPEC §2, each
/// with the balances of the companies it changed, right after it. Events before <c>from</c> are
/// folded but not streamed, so the first balances streamed are already complete.
/// </summary>
public static class ReplayEndpoint
{
    public sealed record ReplayLine(
        long Sequence, Guid EventId, string Type, string? DealId, LocalDate EffectiveOn, Instant RecordedAt,
        object Data, IReadOnlyList<CompanyBalance> Balances);

    [WolverineGet("/api/replay", OperationId = "Replay")]
    [Tags("Reading")]
    public static async Task Get(
        string? from, string? to, string? knownAt, HttpContext context, IQuerySession session, IClock clock,
        IOptions<JsonOptions> json, CancellationToken ct)
    {
        var at = TimeQuery.Parse(to, knownAt, clock, asOfName: "to");
        var start = string.IsNullOrEmpty(from) ? (LocalDate?)null : TimeQuery.ParseDate("from", from);
        var steps = await LedgerHistory.StepsAsync(session, at, ct);

        context.Response.ContentType = "application/x-ndjson";
        // An empty window is still a 200 with no lines, not a 204.
        await context.Response.StartAsync(ct);
        var totals = new RunningTotals();
        foreach (var step in steps)
        {
            totals.Add(step.Postings);
            if (start is { } first && step.Entry.EffectiveOn < first)
            {
                continue;
            }
            var current = totals.ToList();
            var changed = step.Postings.SelectMany(p => new[] { p.From, p.To }).Where(p => p != Parties.External).Distinct()
                .Select(company => BalanceSheet.For(company, current)).ToList();
            var line = new ReplayLine(step.Entry.Sequence, step.Entry.EventId, step.Entry.Event.GetType().Name,
                step.Entry.Event is IDealEvent ? step.StreamKey : null, step.Entry.EffectiveOn, step.Entry.RecordedAt, step.Entry.Event, changed);
            await JsonSerializer.SerializeAsync(context.Response.Body, line, json.Value.SerializerOptions, ct);
            await context.Response.Body.WriteAsync("\n"u8.ToArray(), ct);
        }
    }
}
