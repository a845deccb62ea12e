using FlowLedger.Domain;
using FlowLedger.Projections.Analysis;
using FlowLedger.Projections.Balances;
using FsCheck.Xunit;
using NodaTime;

namespace FlowLedger.Tests.Analysis;

/// <summary>What holds for every trace and every loop search of a random cash history.</summary>
public sealed class AnalysisProperties
{
    [Property(Arbitrary = [typeof(CashHistories)])]
    public void Every_policy_conserves_the_traced_money_exactly(CashHistory history) =>
        Assert.All(Enum.GetValues<TracePolicy>(), policy =>
        {
            var trace = Trace.Run(CashHistory.Source, history.Movements, policy, dealId: history.DealId, from: history.From);

            Assert.Equal(trace.Traced, trace.ReturnedToSource + trace.LeftLedger + trace.Holders.Sum(h => h.Amount));
            Assert.All(trace.Holders, holder => Assert.True(holder.Amount > 0, $"{policy}: {holder}"));
            Assert.All(trace.Flows, flow => Assert.True(flow.Amount > 0, $"{policy}: {flow}"));
        });

    [Property(Arbitrary = [typeof(CashHistories)])]
    public void A_trace_fed_the_postings_as_read_from_the_projection_equals_one_fed_movements(CashHistory history) =>
        Assert.All(Enum.GetValues<TracePolicy>(), policy =>
        {
            var expected = Trace.Run(CashHistory.Source, history.Movements, policy, dealId: history.DealId, from: history.From);
            var trace = Trace.Start(CashHistory.Source, policy, dealId: history.DealId, from: history.From);
            foreach (var cash in history.Movements.Select(AsRead))
            {
                trace.Follow(cash);
            }

            Assert.Equal(Described(expected), Described(trace.Result()));
        });

    [Property(Arbitrary = [typeof(CashHistories)])]
    public void The_cash_graph_built_from_the_postings_as_read_from_the_projection_equals_the_one_built_from_movements(CashHistory history)
    {
        var edges = LoopGraph.Of(Layer.Cash, from: history.From);
        foreach (var cash in history.Movements.Select(AsRead))
        {
            edges.Add(cash);
        }

        Assert.Equal(
            LoopGraph.Cash(history.Movements, from: history.From).Select(Described),
            edges.ToList().Select(Described));
    }

    [Property(Arbitrary = [typeof(CashHistories)])]
    public void Every_cash_loop_starts_where_SPEC_7s_scan_brings_the_most_money_back_and_says_how_much_and_when(LoopSearch search)
    {
        var graph = search.Graph.ToDictionary(edge => (edge.From, edge.To));

        Assert.All(Loops.Find(graph.Values, Layer.Cash, search.MaxLength, limit: int.MaxValue).Loops, loop =>
        {
            var cycle = loop.Edges.Select(e => graph[(e.From, e.To)]).ToList();
            var rotations = Enumerable.Range(0, cycle.Count).Select(start => ScanFrom(cycle, start)).ToList();

            Assert.Equal(rotations.Max(r => r.Flow), loop.TemporalFlow);
            Assert.Equal(rotations[0], (loop.TemporalFlow!.Value, loop.ClosedOn));
        });
    }

    [Property(Arbitrary = [typeof(CashHistories)])]
    public void Temporal_flow_never_exceeds_the_bottleneck_and_a_loop_closed_only_if_money_came_back(LoopSearch search) =>
        Assert.All(Loops.Find(search.Graph, Layer.Cash, search.MaxLength, limit: int.MaxValue).Loops, loop =>
        {
            var temporalFlow = Assert.NotNull(loop.TemporalFlow);
            Assert.Equal(loop.Edges.Min(e => e.Total), loop.Bottleneck);
            Assert.InRange(temporalFlow, 0m, loop.Bottleneck);
            Assert.Equal(temporalFlow > 0, loop.ClosedOn is not null);
        });

    [Property(Arbitrary = [typeof(CashHistories)])]
    public void Every_loop_edge_is_an_edge_of_the_graph_and_the_edges_follow_the_path(LoopSearch search)
    {
        var graph = search.Graph.ToDictionary(edge => (edge.From, edge.To));

        Assert.All(Loops.Find(graph.Values, Layer.Cash, search.MaxLength, limit: int.MaxValue).Loops, loop =>
        {
            Assert.Equal(loop.Path[0], loop.Path[^1]);
            Assert.Equal(loop.Path.Zip(loop.Path.Skip(1)), loop.Edges.Select(e => (e.From, e.To)));
            Assert.All(loop.Edges, e =>
            {
                var edge = graph[(e.From, e.To)];
                Assert.Equal((edge.Total, edge.EventIds), (e.Total, e.EventIds));
            });
        });
    }

    [Property(Arbitrary = [typeof(CashHistories)])]
    public void The_loops_are_exactly_the_simple_cycles_a_brute_force_enumeration_finds_each_once(LoopSearch search)
    {
        var expected = BruteForceCycles(search.Graph, search.MaxLength);

        Assert.All([Layer.Cash, Layer.Commitment], layer =>
            Assert.Equal(expected, Loops.Find(search.Graph, layer, search.MaxLength, limit: int.MaxValue).Loops.Select(Canonical).Order(StringComparer.Ordinal)));
    }

    [Property(Arbitrary = [typeof(CashHistories)])]
    public void A_limit_keeps_the_first_loops_of_the_whole_sorted_answer_and_says_truncated_when_it_cut_some(LoopSearch search)
    {
        var whole = Loops.Find(search.Graph, Layer.Cash, search.MaxLength, limit: int.MaxValue).Loops;
        var limit = Math.Max(1, whole.Count / 2);

        var cut = Loops.Find(search.Graph, Layer.Cash, search.MaxLength, limit: limit);

        Assert.Equal(whole.Take(limit).Select(Canonical), cut.Loops.Select(Canonical));
        Assert.Equal(whole.Count > limit, cut.Truncated);
        Assert.Equal(whole.Select(loop => loop.TemporalFlow).OrderDescending(), whole.Select(loop => loop.TemporalFlow));
    }

    [Property(Arbitrary = [typeof(CashHistories)])]
    public void Every_limit_reports_the_whole_answers_first_loops_unchanged_in_both_layers(LoopSearch search) =>
        // The search skips edges too small for a full list once it has dropped a loop: that must change no loop it reports.
        Assert.All([Layer.Cash, Layer.Commitment], layer =>
        {
            var whole = Loops.Find(search.Graph, layer, search.MaxLength, limit: int.MaxValue).Loops;
            for (var limit = 1; limit <= whole.Count; limit++)
            {
                var cut = Loops.Find(search.Graph, layer, search.MaxLength, limit: limit);

                Assert.Equal(whole.Take(limit).Select(Described), cut.Loops.Select(Described));
                Assert.Equal(whole.Count > limit, cut.Truncated);
            }
        });

    /// <summary>SPEC §7's scan, as written there: the cycle's postings sorted anew, one rotation at a time.</summary>
    private static (decimal Flow, LocalDate? ClosedOn) ScanFrom(IReadOnlyList<GraphEdge> cycle, int start)
    {
        var buffers = new decimal[cycle.Count];
        var cameBack = 0m;
        LocalDate? closedOn = null;
        var inOrder = cycle.SelectMany((edge, index) => edge.Postings.Select(posting => (Edge: index, Posting: posting)))
            .OrderBy(p => p.Posting.Position);
        foreach (var (edge, posting) in inOrder)
        {
            var moved = edge == start ? posting.Amount : Math.Min(posting.Amount, buffers[edge]);
            buffers[edge] -= edge == start ? 0m : moved;
            var next = (edge + 1) % cycle.Count;
            if (next == start)
            {
                cameBack += moved;
                closedOn ??= moved > 0 ? posting.EffectiveOn : null;
            }
            else
            {
                buffers[next] += moved;
            }
        }
        return (cameBack, closedOn);
    }

    /// <summary>A cash movement as <see cref="PostingsQuery.LayerPostingChunksAsync"/> reads it.</summary>
    private static LayerPosting AsRead(Movement m) =>
        new(m.EventId, m.Sequence, m.EffectiveOn, m.DealId, new Posting(Layer.Cash, Assets.Cash(m.Currency), m.From, m.To, m.Amount));

    private static string Described(TraceResult trace) =>
        $"{trace.Traced} {trace.ReturnedToSource} {trace.LeftLedger} " +
        string.Join("; ", trace.Holders.Select(h => $"{h.CompanyId} {h.Amount}")) + " | " +
        string.Join("; ", trace.Flows.Select(f => $"{f.From}→{f.To} {f.Amount}"));

    private static string Described(GraphEdge edge) =>
        $"{edge.From}→{edge.To} {edge.Total} first {edge.FirstPosition} [{string.Join(",", edge.EventIds)}] " +
        string.Join(", ", edge.Postings.Select(p => $"{p.Position}:{p.Amount}@{p.EffectiveOn}"));

    private static string Described(Loop loop) =>
        $"{string.Join(" → ", loop.Path)} bottleneck {loop.Bottleneck} flow {loop.TemporalFlow} closed {loop.ClosedOn} " +
        string.Join("; ", loop.Edges.Select(e => $"{e.From}→{e.To} {e.Total} [{string.Join(",", e.EventIds)}]"));

    /// <summary>Every sequence of distinct companies that starts at its smallest and has an edge at each step and back.</summary>
    private static List<string> BruteForceCycles(IEnumerable<GraphEdge> graph, int maxLength)
    {
        var edges = graph
            .Where(e => e.Total > 0 && e.From != Parties.External && e.To != Parties.External)
            .Select(e => (e.From, e.To))
            .ToHashSet();
        var nodes = edges.SelectMany(e => new[] { e.From, e.To }).Distinct().ToList();
        return Sequences(nodes, maxLength)
            .Where(path => path.Count >= Loops.ShortestLoop && path.Min(StringComparer.Ordinal) == path[0])
            .Where(path => path.Zip(path.Skip(1).Append(path[0])).All(edges.Contains))
            .Select(path => string.Join(" → ", path))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    private static IEnumerable<List<string>> Sequences(IReadOnlyList<string> nodes, int maxLength) =>
        maxLength == 0
            ? []
            : nodes.SelectMany(first => Sequences(nodes.Where(n => n != first).ToList(), maxLength - 1)
                .Select(rest => rest.Prepend(first).ToList())
                .Prepend([first]));

    /// <summary>The loop's companies, once each, from the smallest id: the same for every rotation.</summary>
    private static string Canonical(Loop loop)
    {
        var companies = loop.Path.Take(loop.Path.Count - 1).ToList();
        var smallest = companies.IndexOf(companies.Min(StringComparer.Ordinal)!);
        return string.Join(" → ", companies.Skip(smallest).Concat(companies.Take(smallest)));
    }
}
