using FlowLedger.Domain;
using FlowLedger.Projections.Analysis;
using static FlowLedger.Tests.Analysis.WorkedExample;
using static FlowLedger.Tests.Builders.Ledger;

namespace FlowLedger.Tests.Analysis;

public sealed class TraceTests
{
    private const string D = "d";
    private const string External = Parties.External;

    [Fact]
    public void Proportional_worked_example_of_spec_6_each_payment_carries_the_payers_tagged_share()
    {
        var trace = Trace.Run(V, CashAsOf(YearEnd), TracePolicy.Proportional);

        Assert.Equal((10m, 7m, 0m), (trace.Traced, trace.ReturnedToSource, trace.LeftLedger));
        Assert.Equal([new TraceHolder(C, 2m), new TraceHolder(L, 1m)], trace.Holders);
        Assert.Equal([new TraceFlow(V, L, 10m), new TraceFlow(L, V, 5m), new TraceFlow(L, C, 4m), new TraceFlow(C, V, 2m)], trace.Flows);
    }

    [Fact]
    public void Fifo_worked_example_of_spec_6_the_oldest_money_goes_out_first()
    {
        var trace = Trace.Run(V, CashAsOf(YearEnd), TracePolicy.Fifo);

        Assert.Equal((10m, 0m, 0m), (trace.Traced, trace.ReturnedToSource, trace.LeftLedger));
        Assert.Equal([new TraceHolder(C, 6m), new TraceHolder(L, 4m)], trace.Holders);
        Assert.Equal([new TraceFlow(V, L, 10m), new TraceFlow(L, C, 6m)], trace.Flows);
    }

    [Fact]
    public void Lifo_worked_example_of_spec_6_the_newest_money_goes_out_first()
    {
        var trace = Trace.Run(V, CashAsOf(YearEnd), TracePolicy.Lifo);

        Assert.Equal((10m, 10m, 0m), (trace.Traced, trace.ReturnedToSource, trace.LeftLedger));
        Assert.Empty(trace.Holders);
        Assert.Equal([new TraceFlow(V, L, 10m), new TraceFlow(L, V, 10m)], trace.Flows);
    }

    [Fact]
    public void The_result_names_the_source_policy_and_currency_it_traced()
    {
        var trace = Trace.Run(V, CashAsOf(YearEnd), TracePolicy.Lifo, currency: "EUR");

        Assert.Equal((V, TracePolicy.Lifo, "EUR", 0m), (trace.Source, trace.Policy, trace.Currency, trace.Traced));
    }

    [Theory]
    [InlineData(TracePolicy.Proportional)]
    [InlineData(TracePolicy.Fifo)]
    [InlineData(TracePolicy.Lifo)]
    public void A_payment_beyond_the_pool_spends_the_pool_in_full_the_excess_is_untagged_and_the_pool_stays_at_zero(TracePolicy policy)
    {
        var payments = new Payments()
            .Pay(V, L, 10m, Day(1))
            .Pay(L, C, 25m, Day(2))
            .Pay(V, L, 4m, Day(3))
            .Pay(L, C, 4m, Day(4));

        var trace = Trace.Run(V, payments.Movements, policy);

        Assert.Equal([new TraceFlow(V, L, 14m), new TraceFlow(L, C, 14m)], trace.Flows);
        Assert.Equal([new TraceHolder(C, 14m)], trace.Holders);
    }

    [Theory]
    [InlineData(TracePolicy.Proportional)]
    [InlineData(TracePolicy.Fifo)]
    [InlineData(TracePolicy.Lifo)]
    public void Tagged_money_paid_to_external_has_left_the_ledger(TracePolicy policy)
    {
        var payments = new Payments()
            .Pay(V, L, 10m, Day(1))
            .Pay(L, External, 4m, Day(2));

        var trace = Trace.Run(V, payments.Movements, policy);

        Assert.Equal((10m, 0m, 4m), (trace.Traced, trace.ReturnedToSource, trace.LeftLedger));
        Assert.Equal([new TraceHolder(L, 6m)], trace.Holders);
        Assert.Equal([new TraceFlow(V, L, 10m), new TraceFlow(L, External, 4m)], trace.Flows);
    }

    [Fact]
    public void An_expense_of_the_source_is_one_of_its_outflows_traced_in_full_and_leaves_the_ledger_at_once()
    {
        var payments = new Payments().Pay(V, External, 5m, Day(1));

        var trace = Trace.Run(V, payments.Movements);

        Assert.Equal((5m, 0m, 5m), (trace.Traced, trace.ReturnedToSource, trace.LeftLedger));
        Assert.Equal([new TraceFlow(V, External, 5m)], trace.Flows);
    }

    [Theory]
    [InlineData(TracePolicy.Proportional, 5)]
    [InlineData(TracePolicy.Fifo, 0)]
    [InlineData(TracePolicy.Lifo, 10)]
    public void Money_from_external_such_as_revenue_is_untagged(TracePolicy policy, int taggedToCloud)
    {
        var payments = new Payments()
            .Pay(External, L, 30m, Day(1))
            .Pay(V, L, 10m, Day(2))
            .Pay(L, C, 20m, Day(3));

        var trace = Trace.Run(V, payments.Movements, policy);

        Assert.Equal(taggedToCloud, trace.Flows.SingleOrDefault(f => f.To == C)?.Amount ?? 0m);
    }

    [Fact]
    public void Restricted_to_a_deal_only_its_outflows_are_tagged_and_later_payments_of_any_deal_carry_them()
    {
        var payments = new Payments()
            .Pay(V, L, 10m, Day(1), deal: "a")
            .Pay(V, L, 30m, Day(2), deal: "b")
            .Pay(L, C, 20m, Day(3), deal: "z");

        var trace = Trace.Run(V, payments.Movements, dealId: "a");

        Assert.Equal(10m, trace.Traced);
        Assert.Equal([new TraceFlow(V, L, 10m), new TraceFlow(L, C, 5m)], trace.Flows);
        Assert.Equal([new TraceHolder(C, 5m), new TraceHolder(L, 5m)], trace.Holders);
    }

    [Fact]
    public void From_a_day_only_outflows_effective_on_or_after_it_are_tagged_the_earlier_ones_are_untagged_money_in_the_pools()
    {
        var payments = new Payments()
            .Pay(V, L, 30m, Day(1))
            .Pay(V, L, 10m, Day(3))
            .Pay(L, C, 20m, Day(4));

        var trace = Trace.Run(V, payments.Movements, from: Day(3));

        Assert.Equal(10m, trace.Traced);
        Assert.Equal([new TraceFlow(V, L, 10m), new TraceFlow(L, C, 5m)], trace.Flows);
    }

    [Fact]
    public void Returned_money_leaves_the_trace_and_a_later_outflow_of_the_source_is_traced_afresh()
    {
        var payments = new Payments()
            .Pay(V, L, 10m, Day(1))
            .Pay(L, V, 10m, Day(2))
            .Pay(V, C, 10m, Day(3));

        var trace = Trace.Run(V, payments.Movements);

        Assert.Equal((20m, 10m), (trace.Traced, trace.ReturnedToSource));
        Assert.Equal([new TraceHolder(C, 10m)], trace.Holders);
    }

    [Fact]
    public void Untagged_money_reaching_the_source_is_not_returned()
    {
        var payments = new Payments()
            .Pay(X, L, 30m, Day(1))
            .Pay(V, L, 10m, Day(2))
            .Pay(L, V, 20m, Day(3));

        var trace = Trace.Run(V, payments.Movements, TracePolicy.Fifo);

        Assert.Equal(0m, trace.ReturnedToSource);
        Assert.Equal([new TraceHolder(L, 10m)], trace.Holders);
    }

    [Fact]
    public void Fifo_lots_received_in_one_payment_are_queued_in_the_order_the_payer_spent_them()
    {
        // L holds [X 30, V 10]; paying C 35 spends X 30 then V 5, so C queues [untagged 30, tagged 5]
        // and its next 31 carry untagged 30 and tagged 1.
        var payments = new Payments()
            .Pay(X, L, 30m, Day(1))
            .Pay(V, L, 10m, Day(2))
            .Pay(L, C, 35m, Day(3))
            .Pay(C, D, 31m, Day(4));

        var trace = Trace.Run(V, payments.Movements, TracePolicy.Fifo);

        Assert.Equal([new TraceFlow(V, L, 10m), new TraceFlow(L, C, 5m), new TraceFlow(C, D, 1m)], trace.Flows);
        Assert.Equal([new TraceHolder(C, 4m), new TraceHolder(D, 1m), new TraceHolder(L, 5m)], trace.Holders);
    }

    [Fact]
    public void Lifo_lots_received_in_one_payment_are_queued_in_the_order_the_payer_spent_them_so_the_last_spent_goes_first()
    {
        // L holds [X 30, V 10]; paying C 35 spends V 10 then X 25, so C queues [tagged 10, untagged 25]
        // and its next 25 come from the newest lot, the untagged one.
        var payments = new Payments()
            .Pay(X, L, 30m, Day(1))
            .Pay(V, L, 10m, Day(2))
            .Pay(L, C, 35m, Day(3))
            .Pay(C, D, 25m, Day(4));

        var trace = Trace.Run(V, payments.Movements, TracePolicy.Lifo);

        Assert.Equal([new TraceFlow(V, L, 10m), new TraceFlow(L, C, 10m)], trace.Flows);
        Assert.Equal([new TraceHolder(C, 10m)], trace.Holders);
    }

    [Fact]
    public void A_proportional_share_that_does_not_divide_evenly_is_rounded_where_it_is_paid_so_nothing_is_lost()
    {
        var payments = new Payments()
            .Pay(V, L, 1m, Day(1))
            .Pay(X, L, 2m, Day(1))
            .Pay(L, C, 1m, Day(2))
            .Pay(L, C, 1m, Day(3))
            .Pay(L, C, 1m, Day(4));

        var trace = Trace.Run(V, payments.Movements);

        Assert.Equal([new TraceFlow(V, L, 1m), new TraceFlow(L, C, 1m)], trace.Flows);
        Assert.Equal([new TraceHolder(C, 1m)], trace.Holders);
    }

    [Fact]
    public void Only_movements_in_the_traced_currency_count()
    {
        var payments = new Payments()
            .Pay(V, L, 10m, Day(1), currency: "EUR")
            .Pay(V, L, 5m, Day(2))
            .Pay(L, C, 3m, Day(3), currency: "EUR");

        Assert.Equal([new TraceHolder(L, 5m)], Trace.Run(V, payments.Movements).Holders);
        Assert.Equal([new TraceHolder(C, 3m), new TraceHolder(L, 7m)], Trace.Run(V, payments.Movements, currency: "EUR").Holders);
    }
}
