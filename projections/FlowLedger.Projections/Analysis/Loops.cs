using FlowLedger.Domain;
using NodaTime;

namespace FlowLedger.Projections.Analysis;

/// <summary>
/// The loops found, best first. <see cref="Truncated"/> says more loops qualified than the limit let through,
/// or the time budget ran out before every cycle was seen.
/// </summary>
public sealed record LoopsResult(bool Truncated, IReadOnlyList<Loop> Loops);

/// <summary>
/// A round trip: <see cref="Path"/> names its companies with the first repeated at the end, one edge per step.
/// A cash loop says how much money went round in time order and on which day the first of it came back.
/// </summary>
public sealed record Loop(
    IReadOnlyList<string> Path, IReadOnlyList<LoopEdge> Edges, decimal Bottleneck, decimal? TemporalFlow, LocalDate? ClosedOn);

public sealed record LoopEdge(string From, string To, decimal Total, IReadOnlyList<Guid> EventIds);

/// <summary>Round-trip capital loops: simple directed cycles of a layer's graph (SPEC §7).</summary>
public static class Loops
{
    public const int ShortestLoop = 2;
    public const int LongestLoop = 8;

    /// <summary>
    /// Finds every simple cycle of 2 to <paramref name="maxLength"/> companies whose smallest edge is at least
    /// <paramref name="minAmount"/>, and reports the best <paramref name="limit"/> of them: by temporal flow
    /// (cash) or bottleneck (commitments), descending, then by bottleneck and path. The search stops once
    /// <paramref name="timeBudget"/>, counted from the call on <paramref name="clock"/> (the system's by default),
    /// is spent; the loops found by then are still ranked and reported.
    /// </summary>
    /// <param name="edges">One edge per ordered pair, as <see cref="LoopGraph"/> builds them.</param>
    public static LoopsResult Find(
        IEnumerable<GraphEdge> edges, Layer layer, int maxLength = 4, decimal? minAmount = null, int limit = 50,
        TimeSpan? timeBudget = null, TimeProvider? clock = null)
    {
        if (layer is not (Layer.Cash or Layer.Commitment))
        {
            throw new ArgumentOutOfRangeException(nameof(layer), layer, "Loops exist in the cash and the commitment layer only.");
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, ShortestLoop);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxLength, LongestLoop);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);

        var isOutOfTime = OutOfTimeCheck(timeBudget, clock ?? TimeProvider.System);
        var ranking = new Ranking(limit);
        var completed = CycleSearch.Over(edges, minAmount).Run(maxLength, isOutOfTime, ranking.LeastUsefulEdge, cycle =>
        {
            var bottleneck = cycle.Min(edge => edge.Total);
            // Temporal flow never exceeds the bottleneck, so a cycle whose bottleneck cannot rank is not worth shaping.
            if (ranking.CouldRank(bottleneck))
            {
                ranking.Add(LoopShape.Of(cycle, bottleneck, layer));
            }
            else
            {
                ranking.Drop();
            }
        });
        return new LoopsResult(!completed || ranking.DroppedAny, ranking.InReportOrder());
    }

    private static Func<bool> OutOfTimeCheck(TimeSpan? budget, TimeProvider clock)
    {
        if (budget is not { } allowed)
        {
            return () => false;
        }
        var started = clock.GetTimestamp();
        return () => clock.GetElapsedTime(started) >= allowed;
    }

    /// <summary>The best loops so far, at most <c>limit</c> of them, the worst one at hand to be replaced.</summary>
    private sealed class Ranking(int limit)
    {
        private static readonly Comparer<Loop> ReportOrder = Comparer<Loop>.Create(CompareForReport);

        private readonly PriorityQueue<Loop, Loop> _worstFirst = new(Comparer<Loop>.Create((a, b) => CompareForReport(b, a)));

        public bool DroppedAny { get; private set; }

        /// <summary>Whether a loop whose rank amount is at most <paramref name="bound"/> could make the list.</summary>
        public bool CouldRank(decimal bound) => _worstFirst.Count < limit || bound >= RankAmount(_worstFirst.Peek());

        /// <summary>
        /// The smallest edge total a cycle still worth seeing can have. A cycle's rank amount is at most its smallest
        /// edge, so once the list is full, a cycle through an edge below the worst listed loop would only be dropped.
        /// Skipping such cycles changes nothing once a loop was dropped already: the answer says truncated either way.
        /// </summary>
        public decimal LeastUsefulEdge() => DroppedAny && _worstFirst.Count == limit ? RankAmount(_worstFirst.Peek()) : decimal.MinValue;

        public void Add(Loop loop)
        {
            if (_worstFirst.Count < limit)
            {
                _worstFirst.Enqueue(loop, loop);
            }
            else
            {
                _worstFirst.EnqueueDequeue(loop, loop);
                Drop();
            }
        }

        public void Drop() => DroppedAny = true;

        public IReadOnlyList<Loop> InReportOrder() => _worstFirst.UnorderedItems.Select(item => item.Element).Order(ReportOrder).ToList();

        private static decimal RankAmount(Loop loop) => loop.TemporalFlow ?? loop.Bottleneck;

        /// <summary>Best first; the path settles every tie, so the order never depends on the search.</summary>
        private static int CompareForReport(Loop? a, Loop? b)
        {
            ArgumentNullException.ThrowIfNull(a);
            ArgumentNullException.ThrowIfNull(b);
            var byAmount = RankAmount(b).CompareTo(RankAmount(a));
            if (byAmount != 0)
            {
                return byAmount;
            }
            var byBottleneck = b.Bottleneck.CompareTo(a.Bottleneck);
            if (byBottleneck != 0)
            {
                return byBottleneck;
            }
            foreach (var (x, y) in a.Path.Zip(b.Path))
            {
                var byName = string.CompareOrdinal(x, y);
                if (byName != 0)
                {
                    return byName;
                }
            }
            return a.Path.Count.CompareTo(b.Path.Count);
        }
    }
}
