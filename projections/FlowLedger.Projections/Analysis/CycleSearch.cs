using FlowLedger.Domain;

namespace FlowLedger.Projections.Analysis;

/// <summary>
/// Enumerates the simple directed cycles of a graph, each exactly once: a cycle is found only from its
/// smallest node, walking through larger nodes only, at most as deep as the longest cycle wanted. The
/// walk is bounded by its depth and asks after every step whether it is out of time, so a dense graph
/// cannot hold it for long.
/// </summary>
internal sealed class CycleSearch
{
    private readonly (int Target, GraphEdge Edge)[][] _outgoing;

    private CycleSearch((int Target, GraphEdge Edge)[][] outgoing) => _outgoing = outgoing;

    /// <summary>
    /// The graph of the loops: companies only (never <see cref="Parties.External"/>), edges with a positive
    /// total of at least <paramref name="minAmount"/> — a cycle through a smaller edge has too small a bottleneck.
    /// </summary>
    public static CycleSearch Over(IEnumerable<GraphEdge> edges, decimal? minAmount)
    {
        var kept = edges
            .Where(edge => edge.From != Parties.External && edge.To != Parties.External && edge.From != edge.To)
            .Where(edge => edge.Total > 0 && (minAmount is not { } least || edge.Total >= least))
            .ToList();
        var nodes = kept.Select(edge => edge.From).Concat(kept.Select(edge => edge.To)).ToHashSet(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToList();
        var indexOf = nodes.Select((node, index) => (node, index)).ToDictionary(n => n.node, n => n.index, StringComparer.Ordinal);

        var outgoing = nodes.Select(_ => new List<(int Target, GraphEdge Edge)>()).ToArray();
        foreach (var edge in kept)
        {
            outgoing[indexOf[edge.From]].Add((indexOf[edge.To], edge));
        }
        foreach (var leaving in outgoing)
        {
            leaving.Sort((a, b) => a.Target.CompareTo(b.Target));
            // Sorted by target, two edges for one ordered pair sit side by side.
            for (var i = 1; i < leaving.Count; i++)
            {
                if (leaving[i].Target == leaving[i - 1].Target)
                {
                    throw new ArgumentException($"The graph has more than one edge {leaving[i].Edge.From} → {leaving[i].Edge.To}.", nameof(edges));
                }
            }
        }
        return new CycleSearch(outgoing.Select(leaving => leaving.ToArray()).ToArray());
    }

    /// <summary>
    /// Calls <paramref name="found"/> with the edges of every cycle of 2 to <paramref name="maxLength"/> nodes,
    /// starting at its smallest node; the list is reused, so copy what must outlive the call.
    /// </summary>
    /// <param name="leastWanted">
    /// Asked before each step: edges with a smaller total are not walked, so the cycles through them are never seen.
    /// The caller raises it as it learns that such cycles could not matter any more.
    /// </param>
    /// <returns>Whether every cycle was seen; false when <paramref name="isOutOfTime"/> stopped the search.</returns>
    public bool Run(int maxLength, Func<bool> isOutOfTime, Func<decimal> leastWanted, Action<IReadOnlyList<GraphEdge>> found)
    {
        var walk = new Walk(_outgoing, maxLength, isOutOfTime, leastWanted, found);
        for (var start = 0; start < _outgoing.Length; start++)
        {
            if (!walk.From(start))
            {
                return false;
            }
        }
        return true;
    }

    private sealed class Walk(
        (int Target, GraphEdge Edge)[][] outgoing, int maxLength, Func<bool> isOutOfTime, Func<decimal> leastWanted,
        Action<IReadOnlyList<GraphEdge>> found)
    {
        private readonly List<GraphEdge> _path = new(maxLength);
        private readonly bool[] _onPath = new bool[outgoing.Length];

        public bool From(int start) => Extend(start, start);

        private bool Extend(int start, int node)
        {
            if (isOutOfTime())
            {
                return false;
            }
            foreach (var (target, edge) in outgoing[node])
            {
                if (edge.Total < leastWanted())
                {
                    continue;
                }
                if (target == start)
                {
                    _path.Add(edge);
                    found(_path);
                    _path.RemoveAt(_path.Count - 1);
                }
                // Going on to a new node needs two more edges: one to it and at least one to come back.
                else if (target > start && !_onPath[target] && _path.Count + 2 <= maxLength)
                {
                    _path.Add(edge);
                    _onPath[target] = true;
                    var finished = Extend(start, target);
                    _onPath[target] = false;
                    _path.RemoveAt(_path.Count - 1);
                    if (!finished)
                    {
                        return false;
                    }
                }
            }
            return true;
        }
    }
}
