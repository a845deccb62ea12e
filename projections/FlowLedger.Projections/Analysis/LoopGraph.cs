using System.Runtime.InteropServices;
using FlowLedger.Domain;
using FlowLedger.Projections.Balances;
using NodaTime;

namespace FlowLedger.Projections.Analysis;

/// <summary>One posting along a graph edge, with its place in the order of SPEC §2 (smaller is earlier).</summary>
public readonly record struct EdgePosting(long Position, decimal Amount, LocalDate EffectiveOn);

/// <summary>
/// Everything that went from one party to another in a layer: the total of its postings, the events that
/// made them, and the position of the first. A cash edge also carries its postings in order, which is what
/// lets a loop say how much money went round in time order; a commitment edge has none to carry.
/// </summary>
public sealed record GraphEdge(
    string From, string To, decimal Total, IReadOnlyList<Guid> EventIds, long FirstPosition, IReadOnlyList<EdgePosting> Postings);

/// <summary>The edges of a layer, one per ordered pair of parties (SPEC §7).</summary>
public static class LoopGraph
{
    /// <summary>The cash that went along each ordered pair, from movements in the order of SPEC §2.</summary>
    public static IReadOnlyList<GraphEdge> Cash(IEnumerable<Movement> movements, string currency = "USD", LocalDate? from = null)
    {
        var edges = new CashEdges(currency, from);
        foreach (var movement in movements)
        {
            edges.Add(movement);
        }
        return edges.ToList();
    }

    /// <summary>
    /// The outstanding commitment of each obligor to each obligee: a promise (obligor → obligee) adds to it,
    /// a release (obligee → obligor, of the obligor's promise) takes from it.
    /// </summary>
    public static IReadOnlyList<GraphEdge> Commitments(IEnumerable<FoldStep> steps, string currency = "USD", LocalDate? from = null) =>
        Commitments(steps.Select(step => step.Posted), currency, from);

    /// <inheritdoc cref="Commitments(IEnumerable{FoldStep}, string, LocalDate?)"/>
    public static IReadOnlyList<GraphEdge> Commitments(IEnumerable<PostedEvent> events, string currency = "USD", LocalDate? from = null)
    {
        var edges = new CommitmentEdges(currency, from);
        foreach (var posted in events)
        {
            foreach (var posting in posted.Postings.Where(p => p.Layer == Layer.Commitment))
            {
                edges.Add(new LayerPosting(posted.EventId, posted.Sequence, posted.EffectiveOn, posted.DealId, posting));
            }
        }
        return edges.ToList();
    }

    /// <summary>The edges of a layer as <see cref="Cash"/> or <see cref="Commitments(IEnumerable{PostedEvent}, string, LocalDate?)"/> build them, fed one posting of the layer at a time (in the order of SPEC §2) as they are read.</summary>
    public static LayerEdges Of(Layer layer, string currency = "USD", LocalDate? from = null) => layer switch
    {
        Layer.Cash => new CashEdges(currency, from),
        Layer.Commitment => new CommitmentEdges(currency, from),
        _ => throw new ArgumentOutOfRangeException(nameof(layer), layer, "Loops exist in the cash and the commitment layer only."),
    };

    /// <summary>A layer's edges being built.</summary>
    public abstract class LayerEdges
    {
        private protected LayerEdges()
        {
        }

        /// <summary>Takes the next posting of the layer; those of other currencies or before the first day only keep their place in the order.</summary>
        public abstract void Add(in LayerPosting posting);

        public abstract IReadOnlyList<GraphEdge> ToList();
    }

    private sealed class CashEdges(string currency, LocalDate? from) : LayerEdges
    {
        private readonly EdgeTally _edges = new(keepPostings: true);
        private long _position;

        public override void Add(in LayerPosting cash)
        {
            Add(cash.From, cash.To, Assets.CurrencyOf(cash.Asset), cash.Quantity, cash.EffectiveOn, cash.EventId);
        }

        public void Add(Movement movement) =>
            Add(movement.From, movement.To, movement.Currency, movement.Amount, movement.EffectiveOn, movement.EventId);

        private void Add(string payer, string payee, string paidIn, decimal amount, LocalDate effectiveOn, Guid eventId)
        {
            _position++;
            if (paidIn == currency && IsOnOrAfter(effectiveOn, from))
            {
                _edges.Add(payer, payee, eventId, new EdgePosting(_position, amount, effectiveOn));
            }
        }

        public override IReadOnlyList<GraphEdge> ToList() => _edges.ToList();
    }

    private sealed class CommitmentEdges(string currency, LocalDate? from) : LayerEdges
    {
        private readonly EdgeTally _edges = new(keepPostings: false);
        // A few thousand promise assets recur on half a million postings: each is taken apart once.
        private readonly Dictionary<string, (string Obligor, string Currency)> _promises = new(StringComparer.Ordinal);
        private long _position;

        public override void Add(in LayerPosting commitment)
        {
            _position++;
            ref var promise = ref CollectionsMarshal.GetValueRefOrAddDefault(_promises, commitment.Asset, out var seen);
            if (!seen)
            {
                promise = (Assets.ObligorOf(commitment.Asset), Assets.CurrencyOf(commitment.Asset));
            }
            if (promise.Currency != currency || !IsOnOrAfter(commitment.EffectiveOn, from))
            {
                return;
            }
            var obligor = promise.Obligor;
            var isPromise = commitment.From == obligor;
            var obligee = isPromise ? commitment.To : commitment.From;
            var change = new EdgePosting(_position, isPromise ? commitment.Quantity : -commitment.Quantity, commitment.EffectiveOn);
            _edges.Add(obligor, obligee, commitment.EventId, change);
        }

        public override IReadOnlyList<GraphEdge> ToList() => _edges.ToList();
    }

    private static bool IsOnOrAfter(LocalDate day, LocalDate? from) => from is not { } start || day >= start;

    /// <summary>Postings (signed: a release counts against its promise) summed per ordered pair, edges in the order they were first posted.</summary>
    private sealed class EdgeTally(bool keepPostings)
    {
        private readonly Dictionary<(string From, string To), Line> _lineOf = new();
        private readonly List<Line> _firstPosted = [];

        public void Add(string from, string to, Guid eventId, EdgePosting posting)
        {
            ref var line = ref CollectionsMarshal.GetValueRefOrAddDefault(_lineOf, (from, to), out var postedBefore);
            if (!postedBefore)
            {
                line = new Line(from, to, posting.Position);
                _firstPosted.Add(line);
            }
            line!.Total += posting.Amount;
            // Events come in order, so an event with several postings on one edge repeats only consecutively.
            if (line.EventIds.Count == 0 || line.EventIds[^1] != eventId)
            {
                line.EventIds.Add(eventId);
            }
            if (keepPostings)
            {
                line.Postings.Add(posting);
            }
        }

        public IReadOnlyList<GraphEdge> ToList() =>
            _firstPosted.Select(line => new GraphEdge(line.From, line.To, line.Total, line.EventIds, line.FirstPosition, line.Postings.ToArray())).ToList();

        private sealed class Line(string from, string to, long firstPosition)
        {
            public string From { get; } = from;
            public string To { get; } = to;
            public long FirstPosition { get; } = firstPosition;
            public decimal Total { get; set; }
            public List<Guid> EventIds { get; } = [];
            public List<EdgePosting> Postings { get; } = [];
        }
    }
}
