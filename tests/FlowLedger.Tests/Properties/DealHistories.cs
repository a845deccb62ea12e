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
/// amounts, effective on random days of early 2025 (so backdating and same-day events are
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
        Paying((investor, investee, upTo, day) => Make.Announcement(investor, investee, upTo, day)),
        from pair in TwoCompanies from amount in Amounts from day in Days from shares in Sometimes(Counts)
        select (IDealEvent)Make.Funding(pair.From, pair.To, amount, day, shares),
        from pair in TwoCompanies from shares in Counts from strike in StrikePrices from day in Days
        select (IDealEvent)Make.Issue(pair.From, pair.To, shares, strike, day),
        Counting((issuer, holder, shares, day) => Make.Vest(issuer, holder, shares, day)),
        Counting((issuer, holder, shares, day) => Make.Exercise(issuer, holder, shares, day)),
        from pair in TwoCompanies from amount in Sometimes(Amounts) from capacity in Capacities from day in Days
        select (IDealEvent)Make.PurchaseCommitment(pair.From, pair.To, amount, amount is null ? capacity : null, day),
        from pair in TwoCompanies from units in Gen.Choose(1, 100) from unitPrice in Amounts from day in Days
        select (IDealEvent)Make.Chips(pair.From, pair.To, units, unitPrice, day),
        Paying((payer, payee, amount, day) => Make.Services(payer, payee, amount, day)),
        Paying((lender, borrower, amount, day) => Make.Loan(lender, borrower, amount, day)),
        Paying((lender, borrower, amount, day) => Make.Repayment(lender, borrower, amount, day)),
        OfOneCompany((company, amount, day) => Make.Revenue(company, amount, day)),
        OfOneCompany((company, amount, day) => Make.Expense(company, amount, day)),
        Days.Select(day => (IDealEvent)Make.Cancellation(day)));

    /// <summary>One attempt to record an event, made knowing what was recorded before it.</summary>
    private delegate IDealEvent? Attempt(IReadOnlyList<RecordedEntry> recorded);

    private static readonly Gen<Attempt> Attempts = Gen.Frequency(
        (12, Events.Select(e => (Attempt)(_ => e))),
        (2, FollowUp<InvestmentAnnounced>((a, percent, day) =>
            Make.Funding(a.Investor, a.Investee, Part(a.UpTo, percent), day))),
        (2, FollowUp<PurchaseCommitted>((p, percent, day) =>
            Make.Services(p.Buyer, p.Seller, Part(p.Amount ?? Usd(1), percent), day))),
        (3, FollowUp<WarrantsIssued>((w, percent, day) => Make.Vest(w.Issuer, w.Holder, Part(w.Shares, percent), day))),
        (3, FollowUp<WarrantsVested>((v, percent, day) => Make.Exercise(v.Issuer, v.Holder, Part(v.Shares, percent), day))),
        (2, FollowUp<LoanDrawn>((d, percent, day) => Make.Repayment(d.Lender, d.Borrower, Part(d.Amount, percent), day))),
        (1, Gen.Choose(0, MaxAttempts).Select(pick => (Attempt)(recorded =>
            recorded.Count == 0 ? null : Make.Reversal(recorded[pick % recorded.Count])))));

    private static readonly Gen<PointInTime> Points =
        from asOf in Sometimes(Days)
        from knownAfterTicks in Sometimes(Gen.Choose(0, 2 * MaxAttempts))
        select new PointInTime(asOf, knownAfterTicks is { } ticks ? History.Start + History.Tick * ticks : null);

    private static readonly Gen<DealHistory> Histories =
        from count in Gen.Choose(1, MaxAttempts)
        from attempts in Gen.ListOf(Attempts, count)
        from at in Points
        select new DealHistory(Record(attempts), at);

    public static Arbitrary<DealHistory> AcceptedHistories() => Histories.ToArbitrary();

    public static Arbitrary<ShuffledDealHistory> ShuffledHistories() =>
        (from history in Histories
         from shuffled in Gen.Shuffle(history.Entries.ToArray())
         select new ShuffledDealHistory(history, shuffled)).ToArbitrary();

    /// <summary>An event between two companies about an amount of money.</summary>
    private static Gen<IDealEvent> Paying(Func<string, string, Money, LocalDate, IDealEvent> make) =>
        from pair in TwoCompanies from amount in Amounts from day in Days select make(pair.From, pair.To, amount, day);

    /// <summary>An event of one company about an amount of money.</summary>
    private static Gen<IDealEvent> OfOneCompany(Func<string, Money, LocalDate, IDealEvent> make) =>
        from company in Company from amount in Amounts from day in Days select make(company, amount, day);

    /// <summary>An event between two companies about a number of shares.</summary>
    private static Gen<IDealEvent> Counting(Func<string, string, long, LocalDate, IDealEvent> make) =>
        from pair in TwoCompanies from count in Counts from day in Days select make(pair.From, pair.To, count, day);

    /// <summary>
    /// An attempt that follows up an earlier recorded <typeparamref name="TEarlier"/> (a funding after an announcement,
    /// a vest after an issue...) with a percentage of its figure, effective up to a month after it; nothing when
    /// there is no such event yet.
    /// </summary>
    private static Gen<Attempt> FollowUp<TEarlier>(Func<TEarlier, int, LocalDate, IDealEvent> followUp)
        where TEarlier : IDealEvent =>
        from pick in Gen.Choose(0, MaxAttempts)
        from percent in Gen.Choose(1, 110)
        from lag in Gen.Choose(0, 30)
        select (Attempt)(recorded =>
            recorded.Select(entry => entry.Event).OfType<TEarlier>().ToList() is { Count: > 0 } earlier
            && earlier[pick % earlier.Count] is var target
                ? followUp(target, percent, target.EffectiveOn.PlusDays(lag))
                : null);

    /// <summary>A percentage of an amount, at least a cent; above 100% it tries to go beyond the earlier figure.</summary>
    private static Money Part(Money whole, int percent) =>
        whole with { Amount = Math.Max(0.01m, Math.Round(whole.Amount * percent / 100m, 2)) };

    private static long Part(long whole, int percent) => Math.Max(1, whole * percent / 100);

    /// <summary>A value most of the time, else none.</summary>
    private static Gen<T?> Sometimes<T>(Gen<T> values) where T : struct =>
        Gen.Frequency((3, values.Select(value => (T?)value)), (1, Gen.Constant<T?>(null)));

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
