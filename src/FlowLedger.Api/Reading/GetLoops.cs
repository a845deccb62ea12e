using FlowLedger.Api.Ledger;
using FlowLedger.Domain;
using FlowLedger.Projections.Analysis;
using FlowLedger.Projections.Balances;
using Marten;
using NodaTime;
using Wolverine.Http;

namespace FlowLedger.Api.Reading;

/// <summary>GET /api/loops — round-trip capital loops of the cash or commitment layer (SPEC §7).</summary>
public static class GetLoopsEndpoint
{
    /// <summary>A dense graph can hold more cycles than anyone could read: the search stops here and says so.</summary>
    public static readonly TimeSpan SearchBudget = TimeSpan.FromSeconds(1.5);

    public const int MaxLimit = 1000;

    public sealed record LoopsView(
        LocalDate? AsOf, Instant KnownAt, LocalDate? From, string Layer, string Currency, bool Truncated, IReadOnlyList<Loop> Loops);

    [WolverineGet("/api/loops", OperationId = "Loops")]
    [Tags("Analysis")]
    public static async Task<LoopsView> Get(
        string? asOf, string? knownAt, string? from, string? layer, int? maxLength, decimal? minAmount, int? limit, string? currency,
        IDocumentStore store, IClock clock, CancellationToken ct)
    {
        var at = TimeQuery.Parse(asOf, knownAt, clock);
        var request = LoopsRequest.Parse(from, layer, maxLength, minAmount, limit, currency);
        return await ViewAsync(store, at, request, ct);
    }

    public static async Task<LoopsView> ViewAsync(IDocumentStore store, PointInTime at, LoopsRequest request, CancellationToken ct)
    {
        var found = await request.RunAsync(store, at, ct);
        return new LoopsView(at.AsOf, at.KnownAt!.Value, request.From, request.LayerName, request.Currency, found.Truncated, found.Loops);
    }
}

/// <summary>The parameters of a loop search, checked: 400 on anything out of range.</summary>
public sealed record LoopsRequest(LocalDate? From, Layer Layer, string LayerName, int MaxLength, decimal? MinAmount, int Limit, string Currency)
{
    public static LoopsRequest Parse(string? from, string? layer, int? maxLength, decimal? minAmount, int? limit, string? currency)
    {
        var layerName = string.IsNullOrEmpty(layer) ? "cash" : layer;
        var parsed = layerName switch
        {
            "cash" => Layer.Cash,
            "commitment" => Layer.Commitment,
            _ => throw new MalformedRequestException($"layer '{layer}' is not one of cash, commitment."),
        };
        var length = maxLength ?? 4;
        if (length is < Loops.ShortestLoop or > Loops.LongestLoop)
        {
            throw new MalformedRequestException($"maxLength must be between {Loops.ShortestLoop} and {Loops.LongestLoop}, not {length}.");
        }
        var take = limit ?? 50;
        if (take is < 1 or > GetLoopsEndpoint.MaxLimit)
        {
            throw new MalformedRequestException($"limit must be between 1 and {GetLoopsEndpoint.MaxLimit}, not {take}.");
        }
        if (minAmount is < 0)
        {
            throw new MalformedRequestException($"minAmount must not be negative, not {minAmount}.");
        }
        return new LoopsRequest(string.IsNullOrEmpty(from) ? null : TimeQuery.ParseDate("from", from),
            parsed, layerName, length, minAmount, take, AnalysisParameters.Currency(currency));
    }

    /// <summary>A loop search with every parameter left to its default.</summary>
    public static LoopsRequest Default(Layer layer) =>
        Parse(from: null, PostingsTable.LayerName(layer), maxLength: null, minAmount: null, limit: null, currency: null);

    /// <summary>Searches the layer's graph as the postings projection holds it at <paramref name="at"/>.</summary>
    public async Task<LoopsResult> RunAsync(IDocumentStore store, PointInTime at, CancellationToken ct)
    {
        var edges = LoopGraph.Of(Layer, Currency, From);
        // Cash comes as one asset per currency; a commitment's asset names its obligor, so the graph picks the currency.
        // @external is never a node of a loop, so its postings need not be read.
        var read = new LayerRead(Layer, Layer == Layer.Cash ? Assets.Cash(Currency) : null, CompaniesOnly: true, PostingDetail.EventId);
        await foreach (var chunk in PostingsQuery.LayerPostingChunksAsync(store, read, at.AsOf, at.KnownAt!.Value, ct))
        {
            foreach (ref readonly var posting in chunk.Span)
            {
                edges.Add(in posting);
            }
        }
        return Loops.Find(edges.ToList(), Layer, MaxLength, MinAmount, Limit, GetLoopsEndpoint.SearchBudget);
    }
}
