using FlowLedger.Domain;
using FlowLedger.Projections.Analysis;
using FlowLedger.Projections.Balances;
using FlowLedger.Tests.Builders;
using static FlowLedger.Tests.Analysis.WorkedExample;
using static FlowLedger.Tests.Builders.Ledger;

namespace FlowLedger.Tests.Analysis;

public sealed class LoopsTests
{
    private const string A = "a";
    private const string B = "b";
    private const string D = "d";
    private const string E = "e";
    private const string Z = "z";

    [Fact]
    public void Worked_example_of_spec_7_at_year_end_has_the_two_cash_loops_of_the_vendor()
    {
        var movements = CashAsOf(YearEnd);

        var result = Loops.Find(LoopGraph.Cash(movements), Layer.Cash);

        Assert.False(result.Truncated);
        Assert.Collection(result.Loops,
            roundTrip =>
            {
                Assert.Equal([V, L, V], roundTrip.Path);
                Assert.Equal((10m, 10m, Day(3)), (roundTrip.Bottleneck, roundTrip.TemporalFlow, roundTrip.ClosedOn));
                Assert.Equal([(V, L, 10m), (L, V, 20m)], roundTrip.Edges.Select(e => (e.From, e.To, e.Total)));
                Assert.Equal([[IdOf(movements, V, L)], [IdOf(movements, L, V)]], roundTrip.Edges.Select(e => e.EventIds));
            },
            throughTheCloud =>
            {
                Assert.Equal([V, L, C, V], throughTheCloud.Path);
                Assert.Equal((8m, 8m, Day(5)), (throughTheCloud.Bottleneck, throughTheCloud.TemporalFlow, throughTheCloud.ClosedOn));
                Assert.Equal([(V, L, 10m), (L, C, 16m), (C, V, 8m)], throughTheCloud.Edges.Select(e => (e.From, e.To, e.Total)));
            });
    }

    [Fact]
    public void Worked_example_of_spec_7_on_2025_03_15_has_only_the_round_trip_through_the_lab()
    {
        var result = Loops.Find(LoopGraph.Cash(CashAsOf(Day(3, 15))), Layer.Cash);

        var loop = Assert.Single(result.Loops);
        Assert.Equal([V, L, V], loop.Path);
        Assert.Equal((10m, 10m, Day(3)), (loop.Bottleneck, loop.TemporalFlow, loop.ClosedOn));
    }

    [Fact]
    public void Only_postings_effective_on_or_after_from_build_the_graph()
    {
        var result = Loops.Find(LoopGraph.Cash(CashAsOf(YearEnd), from: Day(3)), Layer.Cash);

        Assert.Empty(result.Loops);
    }

    [Fact]
    public void A_cash_loop_starts_where_the_most_money_came_back_in_time_not_at_the_smallest_id()
    {
        var payments = new Payments()
            .Pay(B, A, 10m, Day(1))
            .Pay(A, B, 10m, Day(2));

        var loop = Assert.Single(FindCash(payments).Loops);

        Assert.Equal([B, A, B], loop.Path);
        Assert.Equal((10m, Day(2)), (loop.TemporalFlow, loop.ClosedOn));
    }

    [Fact]
    public void Equal_temporal_flows_start_at_the_rotation_whose_first_edge_was_posted_first()
    {
        // From b: 10 out on Jan 1, back on Feb 1. From a: 10 out on Feb 1, back on Mar 1.
        var payments = new Payments()
            .Pay(B, A, 10m, Day(1))
            .Pay(A, B, 10m, Day(2))
            .Pay(B, A, 10m, Day(3));

        var loop = Assert.Single(FindCash(payments).Loops);

        Assert.Equal([B, A, B], loop.Path);
        Assert.Equal((10m, Day(2)), (loop.TemporalFlow, loop.ClosedOn));
    }

    [Fact]
    public void Equal_first_postings_start_at_the_smallest_id()
    {
        var sameEvent = Payments.EventId(1);
        GraphEdge[] edges = [new(B, A, 5m, [sameEvent], 1, []), new(A, B, 5m, [sameEvent], 1, [])];

        var loop = Assert.Single(Loops.Find(edges, Layer.Commitment).Loops);

        Assert.Equal([A, B, A], loop.Path);
    }

    [Fact]
    public void A_cycle_whose_money_never_came_round_in_time_is_a_loop_with_zero_temporal_flow_and_no_closing_day()
    {
        var payments = new Payments()
            .Pay(C, A, 10m, Day(1))
            .Pay(B, C, 10m, Day(2))
            .Pay(A, B, 10m, Day(3));

        var loop = Assert.Single(FindCash(payments).Loops);

        Assert.Equal([C, A, B, C], loop.Path);
        Assert.Equal((10m, 0m, null), (loop.Bottleneck, loop.TemporalFlow, loop.ClosedOn));
    }

    [Fact]
    public void Cash_loops_are_sorted_by_temporal_flow_not_by_bottleneck()
    {
        var payments = new Payments()
            .Pay(C, A, 10m, Day(1))
            .Pay(B, C, 10m, Day(2))
            .Pay(A, B, 10m, Day(3))
            .Pay(D, E, 5m, Day(4))
            .Pay(E, D, 5m, Day(5));

        var loops = FindCash(payments).Loops;

        Assert.Equal([[D, E, D], [C, A, B, C]], loops.Select(loop => loop.Path));
        Assert.Equal([5m, 0m], loops.Select(loop => loop.TemporalFlow));
    }

    [Theory]
    [InlineData(9, 1)]
    [InlineData(10, 1)]
    [InlineData(10.01, 0)]
    [InlineData(8, 2)]
    public void Min_amount_keeps_the_loops_whose_bottleneck_reaches_it(double minAmount, int expected)
    {
        var result = Loops.Find(LoopGraph.Cash(CashAsOf(YearEnd)), Layer.Cash, minAmount: (decimal)minAmount);

        Assert.Equal(expected, result.Loops.Count);
        Assert.False(result.Truncated);
    }

    [Fact]
    public void A_limit_below_the_number_of_loops_keeps_the_best_and_says_truncated()
    {
        var graph = LoopGraph.Cash(CashAsOf(YearEnd));

        var cut = Loops.Find(graph, Layer.Cash, limit: 1);
        var whole = Loops.Find(graph, Layer.Cash, limit: 2);

        Assert.True(cut.Truncated);
        Assert.Equal([[V, L, V]], cut.Loops.Select(loop => loop.Path));
        Assert.False(whole.Truncated);
        Assert.Equal(2, whole.Loops.Count);
    }

    [Fact]
    public void Loops_equal_in_amounts_rank_by_path_whatever_order_the_search_finds_them_in()
    {
        // The search meets {a, z} first (from its smallest id) but reports it from z, after [b, c, b].
        var payments = new Payments()
            .Pay(Z, A, 10m, Day(1))
            .Pay(A, Z, 10m, Day(2))
            .Pay(B, C, 10m, Day(3))
            .Pay(C, B, 10m, Day(4));

        var best = Loops.Find(LoopGraph.Cash(payments.Movements), Layer.Cash, limit: 1);

        Assert.Equal([[B, C, B]], best.Loops.Select(loop => loop.Path));
        Assert.Equal([[B, C, B], [Z, A, Z]], FindCash(payments).Loops.Select(loop => loop.Path));
    }

    [Fact]
    public void A_spent_time_budget_stops_the_search_and_says_truncated()
    {
        var result = Loops.Find(
            LoopGraph.Cash(CashAsOf(YearEnd)), Layer.Cash, timeBudget: TimeSpan.FromSeconds(1), clock: new SecondPerReading());

        Assert.True(result.Truncated);
        Assert.Empty(result.Loops);
    }

    [Fact]
    public void A_search_that_ends_within_its_time_budget_is_not_truncated()
    {
        var result = Loops.Find(
            LoopGraph.Cash(CashAsOf(YearEnd)), Layer.Cash, timeBudget: TimeSpan.FromHours(1), clock: new SecondPerReading());

        Assert.False(result.Truncated);
        Assert.Equal(2, result.Loops.Count);
    }

    [Theory]
    [InlineData(2, 0)]
    [InlineData(3, 1)]
    public void Max_length_bounds_the_number_of_companies_in_a_loop(int maxLength, int expected)
    {
        var payments = new Payments()
            .Pay(A, B, 10m, Day(1))
            .Pay(B, C, 10m, Day(2))
            .Pay(C, A, 10m, Day(3));

        Assert.Equal(expected, Loops.Find(LoopGraph.Cash(payments.Movements), Layer.Cash, maxLength).Loops.Count);
    }

    [Theory]
    [InlineData(1, 50)]
    [InlineData(9, 50)]
    [InlineData(4, 0)]
    public void Max_length_outside_2_to_8_or_a_limit_below_1_is_refused(int maxLength, int limit) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Loops.Find([], Layer.Cash, maxLength, limit: limit));

    [Fact]
    public void The_holding_layer_has_no_loops_to_find() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Loops.Find([], Layer.Holding));

    [Fact]
    public void Two_edges_for_one_ordered_pair_are_refused()
    {
        GraphEdge[] edges = [new(A, B, 1m, [], 1, []), new(A, B, 2m, [], 2, []), new(B, A, 1m, [], 3, [])];

        Assert.Throws<ArgumentException>(() => Loops.Find(edges, Layer.Commitment));
    }

    [Fact]
    public void External_is_never_a_node_of_a_loop()
    {
        var payments = new Payments()
            .Pay(A, Parties.External, 10m, Day(1))
            .Pay(Parties.External, A, 10m, Day(2))
            .Pay(A, B, 10m, Day(3))
            .Pay(B, Parties.External, 10m, Day(4))
            .Pay(Parties.External, A, 10m, Day(5));

        Assert.Empty(FindCash(payments).Loops);
    }

    [Fact]
    public void A_commitment_loop_follows_outstanding_promises_has_no_temporal_flow_and_starts_by_the_tie_rules()
    {
        // b promises a 60 first, then a promises b 100 and pays 30 of it: a owes b 70 more, b owes a 60.
        var steps = Steps(
            Make.PurchaseCommitment(B, A, Usd(60), on: Day(1)),
            Make.PurchaseCommitment(A, B, Usd(100), on: Day(2)),
            Make.Services(A, B, Usd(30), on: Day(3)));

        var loop = Assert.Single(Loops.Find(LoopGraph.Commitments(steps), Layer.Commitment).Loops);

        Assert.Equal([B, A, B], loop.Path);
        Assert.Equal((60m, null, null), (loop.Bottleneck, loop.TemporalFlow, loop.ClosedOn));
        Assert.Equal([(B, A, 60m), (A, B, 70m)], loop.Edges.Select(e => (e.From, e.To, e.Total)));
        Assert.Equal([[steps[0].Entry.EventId], [steps[1].Entry.EventId, steps[2].Entry.EventId]], loop.Edges.Select(e => e.EventIds));
    }

    [Fact]
    public void A_commitment_paid_in_full_is_no_longer_an_edge_so_it_closes_no_loop()
    {
        var steps = Steps(
            Make.PurchaseCommitment(B, A, Usd(60), on: Day(1)),
            Make.PurchaseCommitment(A, B, Usd(100), on: Day(2)),
            Make.Services(A, B, Usd(100), on: Day(3)));

        Assert.Empty(Loops.Find(LoopGraph.Commitments(steps), Layer.Commitment).Loops);
    }

    [Fact]
    public void Commitment_loops_are_sorted_by_bottleneck()
    {
        var steps = Steps(
            Make.PurchaseCommitment(A, B, Usd(5), on: Day(1)),
            Make.PurchaseCommitment(B, A, Usd(5), on: Day(1)),
            Make.PurchaseCommitment(D, E, Usd(50), on: Day(2)),
            Make.PurchaseCommitment(E, D, Usd(70), on: Day(2)));

        var loops = Loops.Find(LoopGraph.Commitments(steps), Layer.Commitment).Loops;

        Assert.Equal([[D, E, D], [A, B, A]], loops.Select(loop => loop.Path));
        Assert.Equal([50m, 5m], loops.Select(loop => loop.Bottleneck));
    }

    private static LoopsResult FindCash(Payments payments) => Loops.Find(LoopGraph.Cash(payments.Movements), Layer.Cash);

    private static Guid IdOf(IEnumerable<Movement> movements, string from, string to) =>
        movements.Single(m => m.From == from && m.To == to).EventId;

    /// <summary>The fold steps of deal events recorded in the order given, all of them visible.</summary>
    private static IReadOnlyList<FoldStep> Steps(params IDealEvent[] events)
    {
        var history = new History();
        return LedgerFold.Steps(events.Select(e => ("deal", history.Record(e))), PointInTime.Latest).ToList();
    }

    /// <summary>A clock that moves on one second every time it is read, so a time budget counts readings.</summary>
    private sealed class SecondPerReading : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks += TimeSpan.TicksPerSecond;
    }
}
