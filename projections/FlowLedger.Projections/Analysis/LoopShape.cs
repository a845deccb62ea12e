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
    private static Rotation BestRoundTrip(IReadOnlyList<GraphEdge> cycle)
    {
        var inPostingOrder = InPostingOrder(cycle);
        return Enumerable.Range(0, cycle.Count)
            .Select(start => RoundTrip(inPostingOrder, cycle.Count, start))
            .OrderByDescending(trip => trip.Flow)
            .ThenBy(trip => trip.Start, FirstPostedFirst(cycle))
            .First();
    }

    /// <summary>
    /// The postings of the cycle's edges in the order of SPEC §2, each with the index of its edge. Every edge holds
    /// its postings in that order already (<see cref="LoopGraph"/> adds them so), so merging them takes one pass,
    /// where sorting them all anew cost more than the rest of the search on a large store's busiest edges.
    /// </summary>
    private static List<(int Edge, EdgePosting Posting)> InPostingOrder(IReadOnlyList<GraphEdge> cycle)
    {
        var next = new int[cycle.Count];
        var merged = new List<(int Edge, EdgePosting Posting)>(cycle.Sum(edge => edge.Postings.Count));
        while (true)
        {
            var earliest = -1;
            for (var edge = 0; edge < cycle.Count; edge++)
            {
                if (next[edge] < cycle[edge].Postings.Count &&
                    (earliest < 0 || cycle[edge].Postings[next[edge]].Position < cycle[earliest].Postings[next[earliest]].Position))
                {
                    earliest = edge;
                }
            }
            if (earliest < 0)
            {
                return merged;
            }
            merged.Add((earliest, cycle[earliest].Postings[next[earliest]++]));
        }
    }

    /// <summary>
    /// The temporal flow from the first node of edge <paramref name="start"/>: it has unlimited supply, every
    /// other node passes on at most what it has received so far, in the order of SPEC §2.
    /// </summary>
    private static Rotation RoundTrip(IReadOnlyList<(int Edge, EdgePosting Posting)> inPostingOrder, int length, int start)
    {
        // Node i of the cycle is where edge i begins; the buffer of the start itself is never read.
        var waiting = new decimal[length];
        var cameBack = 0m;
        LocalDate? closedOn = null;
        foreach (var (edge, posting) in inPostingOrder)
        {
            var moved = edge == start ? posting.Amount : Math.Min(posting.Amount, waiting[edge]);
            if (moved == 0)
            {
                continue;
            }
            waiting[edge] -= edge == start ? 0m : moved;
            var next = (edge + 1) % length;
            if (next == start)
            {
                cameBack += moved;
                closedOn ??= posting.EffectiveOn;
            }
            else
            {
                waiting[next] += moved;
            }
        }
        return new Rotation(start, cameBack, closedOn);
    }
}
