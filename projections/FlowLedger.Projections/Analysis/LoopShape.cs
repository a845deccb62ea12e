using FlowLedger.Domain;
using NodaTime;

namespace FlowLedger.Projections.Analysis;

/// <summary>How a cycle is reported: which node it starts at, and for cash how much went round in time (SPEC §7).</summary>
internal static class LoopShape
{
    /// <param name="cycle">The cycle's edges, each starting where the previous one ends.</param>
    public static Loop Of(IReadOnlyList<GraphEdge> cycle, decimal bottleneck, Layer layer)
    {
        var rotations = Enumerable.Range(0, cycle.Count);
        var best = layer == Layer.Cash
            ? BestRoundTrip(cycle)
            : rotations.Select(start => new Rotation(start, null, null)).OrderBy(trip => trip.Start, FirstPostedFirst(cycle)).First();

        var edges = rotations.Select(step => cycle[(best.Start + step) % cycle.Count]).ToList();
        var path = edges.Select(edge => edge.From).Append(edges[0].From).ToList();
        var legs = edges.Select(edge => new LoopEdge(edge.From, edge.To, edge.Total, edge.EventIds)).ToList();
        return new Loop(path, legs, bottleneck, best.Flow, best.ClosedOn);
    }

    /// <summary>A start for the cycle: the edge it begins with, and for cash what came back to its first node.</summary>
    private readonly record struct Rotation(int Start, decimal? Flow, LocalDate? ClosedOn);

    /// <summary>The tie rules: the rotation whose first edge was posted first, then the smallest start id.</summary>
    private static Comparer<int> FirstPostedFirst(IReadOnlyList<GraphEdge> cycle) => Comparer<int>.Create((a, b) =>
    {
        var byPosition = cycle[a].FirstPosition.CompareTo(cycle[b].FirstPosition);
        return byPosition != 0 ? byPosition : string.CompareOrdinal(cycle[a].From, cycle[b].From);
    });

    /// <summary>The rotation that brings the most money back to its start, ties broken by the tie rules.</summary>
    private static Rotation BestRoundTrip(IReadOnlyList<GraphEdge> cycle) =>
        RoundTrips(cycle)
            .OrderByDescending(trip => trip.Flow)
            .ThenBy(trip => trip.Start, FirstPostedFirst(cycle))
            .First();

    /// <summary>
    /// The temporal flow of every rotation: the first node of edge <c>start</c> has unlimited supply, every other node
    /// passes on at most what it has received so far, in the order of SPEC §2. The postings of the cycle's edges are
    /// merged into that order as they are scanned, and every rotation takes each posting in the same pass: each edge
    /// holds its postings in order already (<see cref="LoopGraph"/> adds them so), so the merge is one pass, where
    /// sorting them, or merging them once per rotation, cost more than the rest of the search on a large store's
    /// busiest edges.
    /// </summary>
    private static Rotation[] RoundTrips(IReadOnlyList<GraphEdge> cycle)
    {
        var length = cycle.Count;
        var postings = cycle.Select(edge => edge.Postings as EdgePosting[] ?? [.. edge.Postings]).ToArray();
        var next = new int[length];
        // waiting[start * length + i]: what node i (where edge i begins) holds in the round trip from start; the start's own is never read.
        var waiting = new decimal[length * length];
        var cameBack = new decimal[length];
        var closedOn = new LocalDate?[length];
        while (true)
        {
            var earliest = -1;
            for (var edge = 0; edge < length; edge++)
            {
                if (next[edge] < postings[edge].Length &&
                    (earliest < 0 || postings[edge][next[edge]].Position < postings[earliest][next[earliest]].Position))
                {
                    earliest = edge;
                }
            }
            if (earliest < 0)
            {
                break;
            }
            var posting = postings[earliest][next[earliest]++];
            var receiver = (earliest + 1) % length;
            for (var start = 0; start < length; start++)
            {
                var moved = earliest == start ? posting.Amount : Math.Min(posting.Amount, waiting[start * length + earliest]);
                if (moved == 0)
                {
                    continue;
                }
                if (earliest != start)
                {
                    waiting[start * length + earliest] -= moved;
                }
                if (receiver == start)
                {
                    cameBack[start] += moved;
                    closedOn[start] ??= posting.EffectiveOn;
                }
                else
                {
                    waiting[start * length + receiver] += moved;
                }
            }
        }
        return Enumerable.Range(0, length).Select(start => new Rotation(start, cameBack[start], closedOn[start])).ToArray();
    }
}
