using FlowLedger.Api.Ledger;
using FlowLedger.Domain;
using FlowLedger.Projections;
using FlowLedger.Projections.Analysis;
using FlowLedger.Projections.Balances;
using Marten;
using NodaTime;
using Wolverine.Http;

namespace FlowLedger.Api.Reading;

/// <summary>GET /api/trace — where a company's outflows ended up, under an attribution policy (SPEC §6).</summary>
public static class GetTraceEndpoint
{
    public sealed record TraceView(
        string Source, string Policy, LocalDate? AsOf, Instant KnownAt, string Currency, string? Deal, LocalDate? From,
        decimal Traced, decimal ReturnedToSource, decimal LeftLedger, IReadOnlyList<TraceHolder> Holders, IReadOnlyList<TraceFlow> Flows)
    {
        public static TraceView Of(PointInTime at, TraceRequest request, TraceResult result) =>
            new(result.Source, request.PolicyName, at.AsOf, at.KnownAt!.Value, result.Currency, request.Deal, request.From,
                result.Traced, result.ReturnedToSource, result.LeftLedger, result.Holders, result.Flows);
    }

    [WolverineGet("/api/trace", OperationId = "Trace")]
    [Tags("Analysis")]
    public static async Task<IResult> Get(
        string? source, string? asOf, string? knownAt, string? policy, string? deal, string? from, string? currency,
        IQuerySession session, IDocumentStore store, IClock clock, CancellationToken ct)
    {
        var at = TimeQuery.Parse(asOf, knownAt, clock);
        var request = TraceRequest.Parse(source, policy, deal, from, currency);
        if (await session.LoadAsync<CompanyProfile>(CompanyProfile.StreamKeyOf(request.Source), ct) is null)
        {
            return Problems.NotFound($"No company '{request.Source}' is registered.");
        }
        return Results.Ok(TraceView.Of(at, request, await request.RunAsync(store, at, ct)));
    }
}

/// <summary>The parameters of a trace, checked: 400 on anything malformed.</summary>
public sealed record TraceRequest(string Source, TracePolicy Policy, string PolicyName, string Currency, string? Deal, LocalDate? From)
{
    public static TraceRequest Parse(string? source, string? policy, string? deal, string? from, string? currency)
    {
        if (string.IsNullOrEmpty(source))
        {
            throw new MalformedRequestException("source is required: the id of the company whose outflows to trace.");
        }
        if (!EventRules.IsSlug(source))
        {
            throw new MalformedRequestException($"source '{source}' is not a company id ([a-z0-9-]{{1,64}}).");
        }
        var policyName = string.IsNullOrEmpty(policy) ? "proportional" : policy;
        var parsed = policyName switch
        {
            "proportional" => TracePolicy.Proportional,
            "fifo" => TracePolicy.Fifo,
            "lifo" => TracePolicy.Lifo,
            _ => throw new MalformedRequestException($"policy '{policy}' is not one of proportional, fifo, lifo."),
        };
        return new TraceRequest(source!, parsed, policyName, AnalysisParameters.Currency(currency), NullIfEmpty(deal),
            string.IsNullOrEmpty(from) ? null : TimeQuery.ParseDate("from", from));
    }

    /// <summary>Runs the trace over the cash of its currency as the postings projection holds it at <paramref name="at"/>.</summary>
    public async Task<TraceResult> RunAsync(IDocumentStore store, PointInTime at, CancellationToken ct)
    {
        var trace = Trace.Start(Source, Policy, Currency, Deal, From);
        // The deal of each payment matters only to a trace kept to one deal.
        var read = new LayerRead(Layer.Cash, Assets.Cash(Currency), Detail: Deal is null ? PostingDetail.None : PostingDetail.Deal);
        await foreach (var chunk in PostingsQuery.LayerPostingChunksAsync(store, read, at.AsOf, at.KnownAt!.Value, ct))
        {
            foreach (ref readonly var cash in chunk.Span)
            {
                trace.Follow(in cash);
            }
        }
        return trace.Result();
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}

public static class AnalysisParameters
{
    public static string Currency(string? currency) =>
        string.IsNullOrEmpty(currency) ? "USD"
        : Money.IsCurrencyCode(currency) ? currency
        : throw new MalformedRequestException($"currency '{currency}' is not an ISO 4217 code (three upper-case letters).");
}
