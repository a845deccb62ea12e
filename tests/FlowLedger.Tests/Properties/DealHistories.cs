using FlowLedger.Domain;
using FlowLedger.Tests.Builders;
using FsCheck;
using FsCheck.Fluent;
using NodaTime;
using static FlowLedger.Tests.Builders.Ledger;

namespace FlowLedger.Tests.Properties;

/// <summary>A deal history the ledger accepted, and the point in time a property looks at it from.</summary>
public sealed record DealHistory(IReadOnlyList<RecordedEntry> Entries, PointInTime At)
{
    public IReadOnlyList<RecordedEntry> Visible => At.Visible(Entries);

    public override string ToString() =>
        string.Join(Environment.NewLine, Entries.Select(e => $"#{e.Sequence} {e.EventId} {e.Event}").Append($"at {At}"));
}

/// <summary>The same accepted history, its entries handed over in another order.</summary>
public sealed record ShuffledDealHistory(DealHistory History, IReadOnlyList<RecordedEntry> Shuffled)
{
    public override string ToString() =>
        $"{History}{Environment.NewLine}shuffled: {string.Join(", ", Shuffled.Select(e => e.Sequence))}";
}

/// <summary>
/// Random deal histories among a few companies: up to 30 attempts of every event type with positive
/// amounts, effective on random days of the first quarter (so backdating and same-day events are
/// common), now and then the reversal of an earlier entry. Each attempt is recorded only if the write
/// side would accept it, so every history is one the ledger can hold.
/// </summary>
public static class DealHistories
{
    private const int MaxAttempts = 30;

    private static readonly string[] Companies = [Nvidia, OpenAi, Amd, Oracle];

    private static readonly Gen<string> Company = Gen.Elements(Companies);

    private static readonly Gen<(string From, string To)> TwoCompanies =
        Gen.Shuffle(Companies).Select(shuffled => (shuffled[0], shuffled[1]));

    private static readonly Gen<LocalDate> Days = Gen.Choose(0, 89).Select(offset => Day(1).PlusDays(offset));

    private static readonly Gen<Money> Amounts =
        from cents in Gen.Choose(1, 100_000)
        from currency in Gen.Elements("USD", "USD", "USD", "EUR")
        select new Money(cents / 100m, currency);

    private static readonly Gen<long> Counts = Gen.Choose(1, 1_000).Select(count => (long)count);

    private static readonly Gen<Money> StrikePrices = Gen.Choose(0, 500).Select(cents => Usd(cents / 100m));

    private static readonly Gen<Capacity> Capacities = Gen.Choose(1, 10).Select(gigawatts => new Capacity(gigawatts, "GW"));

    private static readonly Gen<IDealEvent> Events = Gen.OneOf(
        from pair in TwoCompanies from upTo in Amounts from day in Days
        select (IDealEvent)Make.Announcement(pair.From, pair.To, upTo, day),
        from pair in TwoCompanies from amount in Amounts from day in Days from shares in Gen.OrNull(Counts.Select(s => (long?)s))
        select (IDealEvent)Make.Funding(pair.From, pair.To, amount, day, shares),
        from pair in TwoCompanies from shares in Counts from strike in StrikePrices from day in Days
        select (IDealEvent)Make.Issue(pair.From, pair.To, shares, strike, day),
        from pair in TwoCompanies from shares in Counts from day in Days
        select (IDealEvent)Make.Vest(pair.From, pair.To, shares, day),
        from pair in TwoCompanies from shares in Counts from day in Days
        select (IDealEvent)Make.Exercise(pair.From, pair.To, shares, day),
        from pair in TwoCompanies from amount in Gen.OrNull(Amounts.Select(a => (Money?)a))
        from capacity in Capacities from day in Days
        select (IDealEvent)Make.PurchaseCommitment(pair.From, pair.To, amount, amount is null ? capacity : null, day),
        from pair in TwoCompanies from units in Gen.Choose(1, 100) from unitPrice in Amounts from day in Days
        select (IDealEvent)Make.Chips(pair.From, pair.To, units, unitPrice, day),
        from pair in TwoCompanies from amount in Amounts from day in Days
        select (IDealEvent)Make.Services(pair.From, pair.To, amount, day),
        from pair in TwoCompanies from amount in Amounts from day in Days
        select (IDealEvent)Make.Loan(pair.From, pair.To, amount, day),
        from pair in TwoCompanies from amount in Amounts from day in Days
        select (IDealEvent)Make.Repayment(pair.From, pair.To, amount, day),
        from company in Company from amount in Amounts from day in Days
        select (IDealEvent)Make.Revenue(company, amount, day),
        from company in Company from amount in Amounts from day in Days
        select (IDealEvent)Make.Expense(company, amount, day),
        Days.Select(day => (IDealEvent)Make.Cancellation(day)));

    /// <summary>One attempt to record an event, made knowing what was recorded before it.</summary>
    private delegate IDealEvent? Attempt(IReadOnlyList<RecordedEntry> recorded);

    private static readonly Gen<Attempt> Attempts = Gen.Frequency(
        (12, Events.Select(e => (Attempt)(_ => e))),
        (1, Gen.Choose(0, MaxAttempts).Select(pick => (Attempt)(recorded =>
            recorded.Count == 0 ? null : Make.Reversal(recorded[pick % recorded.Count])))));

    private static readonly Gen<PointInTime> Points =
        from asOf in Gen.OrNull(Days.Select(day => (LocalDate?)day))
        from knownAfterTicks in Gen.OrNull(Gen.Choose(0, 2 * MaxAttempts).Select(ticks => (int?)ticks))
        select new PointInTime(asOf, knownAfterTicks is { } ticks ? History.Start + History.Tick * ticks : null);

    private static readonly Gen<DealHistory> Histories =
        from count in Gen.Choose(1, MaxAttempts)
        from attempts in Gen.ListOf(Attempts, count)
        from at in Points
        select new DealHistory(Record(attempts), at);

    public static Arbitrary<DealHistory> AcceptedHistories() => Histories.ToArbitrary();

    public static Arbitrary<ShuffledDealHistory> ShuffledHistories() =>
        (from history in Histories
         from shuffled in Gen.Shuffle(history.Entries)
         select new ShuffledDealHistory(history, shuffled)).ToArbitrary();

    private static IReadOnlyList<RecordedEntry> Record(IEnumerable<Attempt> attempts)
    {
        var history = new History();
        foreach (var attempt in attempts)
        {
            if (attempt(history.Entries) is { } e)
            {
                history.RecordIfAccepted(e);
            }
        }
        return history.Entries;
    }
}
