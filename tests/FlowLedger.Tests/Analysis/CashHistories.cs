using FlowLedger.Domain;
using FlowLedger.Projections.Analysis;
using FsCheck;
using FsCheck.Fluent;
using NodaTime;
using static FlowLedger.Tests.Builders.Ledger;

namespace FlowLedger.Tests.Analysis;

/// <summary>Cash movements in the order of SPEC §2, and the restrictions a trace of company "a" may take.</summary>
public sealed record CashHistory(IReadOnlyList<Movement> Movements, string? DealId, LocalDate? From)
{
    public const string Source = "a";

    public override string ToString() =>
        string.Join(Environment.NewLine, Movements.Select(m => $"#{m.Sequence} {m.EffectiveOn} {m.From}→{m.To} {m.Amount} {m.Currency} {m.DealId}")
            .Append($"deal {DealId}, from {From}"));
}

/// <summary>A cash history and the longest loop to look for in it.</summary>
public sealed record LoopSearch(CashHistory History, int MaxLength)
{
    public IReadOnlyList<GraphEdge> Graph => LoopGraph.Cash(History.Movements);

    public override string ToString() => $"{History}{Environment.NewLine}maxLength {MaxLength}";
}

/// <summary>
/// Random cash histories among five companies and <see cref="Parties.External"/>: up to 30 movements of
/// amounts with up to four decimals, in two deals and now and then another currency, on random days of
/// early 2025 (so same-day movements are common).
/// </summary>
public static class CashHistories
{
    private static readonly string[] Parties = ["a", "b", "c", "d", "e", Domain.Parties.External];

    private static readonly Gen<decimal> Amounts =
        from units in Gen.Choose(1, 100_000)
        from decimals in Gen.Choose(0, 4)
        select new decimal(units, 0, 0, isNegative: false, scale: (byte)decimals);

    private static readonly Gen<LocalDate> Days = Gen.Choose(0, 59).Select(offset => Day(1).PlusDays(offset));

    private static readonly Gen<string> Deals = Gen.Elements("d1", "d2");

    private static readonly Gen<Movement> Movements =
        from parties in Gen.Shuffle(Parties)
        from amount in Amounts
        from currency in Gen.Elements("USD", "USD", "USD", "EUR")
        from day in Days
        from deal in Deals
        select new Movement(parties[0], parties[1], amount, currency, day, 0, Guid.Empty, deal);

    private static readonly Gen<CashHistory> Histories =
        from count in Gen.Choose(1, 30)
        from movements in Gen.ListOf(Movements, count)
        from deal in Sometimes(Deals)
        from day in Days
        from restrictedFromDay in Gen.Elements(true, false)
        select new CashHistory(InOrder(movements), deal, restrictedFromDay ? day : null);

    public static Arbitrary<CashHistory> CashHistory() => Histories.ToArbitrary();

    public static Arbitrary<LoopSearch> LoopSearches() =>
        (from history in Histories
         from maxLength in Gen.Choose(Loops.ShortestLoop, 5)
         select new LoopSearch(history, maxLength)).ToArbitrary();

    /// <summary>Sorted by day, then numbered: each movement its own event, as the store would sequence them.</summary>
    private static List<Movement> InOrder(IEnumerable<Movement> movements) =>
        movements
            .OrderBy(m => m.EffectiveOn)
            .Select((m, index) => m with { Sequence = index + 1, EventId = Payments.EventId(index + 1) })
            .ToList();

    private static Gen<string?> Sometimes(Gen<string> values) =>
        Gen.Frequency((3, values.Select(value => (string?)value)), (1, Gen.Constant<string?>(null)));
}
