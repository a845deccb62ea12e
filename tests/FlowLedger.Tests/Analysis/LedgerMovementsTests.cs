using FlowLedger.Domain;
using FlowLedger.Projections;
using FlowLedger.Projections.Analysis;
using FlowLedger.Projections.Balances;
using FlowLedger.Tests.Builders;
using NodaTime;
using static FlowLedger.Tests.Analysis.WorkedExample;
using static FlowLedger.Tests.Builders.Ledger;

namespace FlowLedger.Tests.Analysis;

public sealed class LedgerMovementsTests
{
    [Fact]
    public void Every_cash_posting_becomes_a_movement_in_the_order_of_spec_2_with_its_event_and_deal()
    {
        var movements = CashAsOf(YearEnd);

        Assert.Equal([(X, L, 30m), (V, L, 10m), (L, V, 20m), (L, C, 16m), (C, V, 8m)], movements.Select(m => (m.From, m.To, m.Amount)));
        Assert.Equal([Day(1, 10), Day(2), Day(3), Day(4), Day(5)], movements.Select(m => m.EffectiveOn));
        Assert.All(movements, m => Assert.Equal((Deal, "USD"), (m.DealId, m.Currency)));
        Assert.Equal(5, movements.Select(m => m.EventId).Distinct().Count());
        Assert.Equal(movements.Select(m => m.Sequence).Order(), movements.Select(m => m.Sequence));
    }

    [Fact]
    public void Opening_cash_comes_in_from_external_and_belongs_to_no_deal()
    {
        var registration = Make.Company(V, openingCash: Eur(7));
        var entry = new RecordedEntry(Payments.EventId(1), 1, Instant.FromUtc(2025, 6, 1, 9, 0), registration);
        var step = new FoldStep(CompanyProfile.StreamKeyOf(V), entry, RegistrationPostings.Of(registration));

        var movement = Assert.Single(LedgerMovements.Cash([step]));

        Assert.Equal(new Movement(Parties.External, V, 7m, "EUR", registration.EffectiveOn, 1, entry.EventId, null), movement);
    }
}
