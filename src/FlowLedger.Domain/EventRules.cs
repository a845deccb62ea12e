using System.Text.RegularExpressions;
using NodaTime;

namespace FlowLedger.Domain;

/// <summary>Why a request is refused, gravest first: malformed (400), unknown target (404), conflict (409), broken rule (422).</summary>
public enum Refusal { Malformed, NotFound, Conflict, RuleBroken }

public sealed record RuleBreak(Refusal Kind, string Message)
{
    public static RuleBreak Malformed(string message) => new(Refusal.Malformed, message);
    public static RuleBreak Broken(string message) => new(Refusal.RuleBroken, message);
}

/// <summary>The rules of SPEC §4 that an event can be checked against on its own, without the ledger's state.</summary>
public static partial class EventRules
{
    /// <summary>
    /// The largest amount or quantity one event may carry (10^15): beyond any real deal, and far
    /// enough below decimal's range that sums over many events and price × quantity cannot overflow.
    /// </summary>
    public const decimal MaxQuantity = 1_000_000_000_000_000m;

    /// <summary>Amounts are exact to a millionth of a unit; finer ones are typing errors, not money.</summary>
    public const int MaxDecimals = 6;

    /// <summary>The days a fact of this ledger can have happened on; outside them a date is a typing error.</summary>
    public static readonly LocalDate EarliestDay = new(1900, 1, 1);

    public static readonly LocalDate LatestDay = new(2999, 12, 31);

    public static bool IsSlug(string? id) => id is not null && Slug().IsMatch(id);

    /// <summary>
    /// The fields, as the wire and the store name them (camelCase), in which events name companies:
    /// exactly where <see cref="PartiesOf"/> finds them, so stored events can be searched by company.
    /// </summary>
    public static readonly IReadOnlyList<string> PartyFields =
        ["companyId", "investor", "investee", "issuer", "holder", "buyer", "seller", "vendor", "payer", "payee", "lender", "borrower", "company"];

    /// <summary>The companies an event names (never <see cref="Parties.External"/>).</summary>
    public static IReadOnlyList<string> PartiesOf(ILedgerEvent e) => e switch
    {
        CompanyRegistered c => [c.CompanyId],
        InvestmentAnnounced a => [a.Investor, a.Investee],
        InvestmentFunded f => [f.Investor, f.Investee],
        WarrantsIssued w => [w.Issuer, w.Holder],
        WarrantsVested v => [v.Issuer, v.Holder],
        WarrantsExercised x => [x.Issuer, x.Holder],
        PurchaseCommitted p => [p.Buyer, p.Seller],
        ChipsPurchased c => [c.Buyer, c.Vendor],
        ServicesPaid s => [s.Payer, s.Payee],
        LoanDrawn d => [d.Lender, d.Borrower],
        LoanRepaid r => [r.Lender, r.Borrower],
        RevenueRecognized r => [r.Company],
        ExpenseIncurred x => [x.Company],
        CommitmentCancelled or EntryReversed => [],
        _ => throw new InvalidOperationException($"Unknown event {e.GetType().Name}."),
    };

    public static IReadOnlyList<RuleBreak> Check(ILedgerEvent e)
    {
        var breaks = new List<RuleBreak>();
        if (e.EffectiveOn < EarliestDay || e.EffectiveOn > LatestDay)
        {
            breaks.Add(RuleBreak.Malformed($"effectiveOn {e.EffectiveOn:uuuu-MM-dd} is not between {EarliestDay:uuuu-MM-dd} and {LatestDay:uuuu-MM-dd}."));
        }
        switch (e)
        {
            case CompanyRegistered c:
                if (!IsSlug(c.CompanyId))
                {
                    breaks.Add(RuleBreak.Malformed($"companyId '{c.CompanyId}' must match [a-z0-9-]{{1,64}}."));
                }
                Required(breaks, "name", c.Name);
                if (c.OpeningCash is { } opening)
                {
                    MoneyRules(breaks, "openingCash", opening, allowZero: true);
                }
                break;
            case InvestmentAnnounced a:
                Pair(breaks, a.Investor, a.Investee);
                MoneyRules(breaks, "upTo", a.UpTo);
                break;
            case InvestmentFunded f:
                Pair(breaks, f.Investor, f.Investee);
                MoneyRules(breaks, "amount", f.Amount);
                if (f.Shares is { } shares)
                {
                    Positive(breaks, "shares", shares);
                }
                break;
            case WarrantsIssued w:
                Pair(breaks, w.Issuer, w.Holder);
                Positive(breaks, "shares", w.Shares);
                MoneyRules(breaks, "strikePrice", w.StrikePrice, allowZero: true);
                Product(breaks, "shares × strikePrice", w.Shares, w.StrikePrice.Amount);
                TrancheRules(breaks, w);
                break;
            case WarrantsVested v:
                Pair(breaks, v.Issuer, v.Holder);
                Positive(breaks, "shares", v.Shares);
                break;
            case WarrantsExercised x:
                Pair(breaks, x.Issuer, x.Holder);
                Positive(breaks, "shares", x.Shares);
                break;
            case PurchaseCommitted p:
                Pair(breaks, p.Buyer, p.Seller);
                if (p.Amount is null && p.Capacity is null)
                {
                    breaks.Add(RuleBreak.Malformed("PurchaseCommitted needs an amount, a capacity, or both."));
                }
                if (p.Amount is { } amount)
                {
                    MoneyRules(breaks, "amount", amount);
                }
                if (p.Capacity is { } capacity)
                {
                    Required(breaks, "capacity.unit", capacity.Unit);
                    Positive(breaks, "capacity.value", capacity.Value);
                }
                break;
            case ChipsPurchased c:
                Pair(breaks, c.Buyer, c.Vendor);
                Required(breaks, "chipModel", c.ChipModel);
                Positive(breaks, "units", c.Units);
                MoneyRules(breaks, "unitPrice", c.UnitPrice);
                Product(breaks, "units × unitPrice", c.Units, c.UnitPrice.Amount);
                break;
            case ServicesPaid s:
                Pair(breaks, s.Payer, s.Payee);
                MoneyRules(breaks, "amount", s.Amount);
                Required(breaks, "description", s.Description);
                break;
            case LoanDrawn d:
                Pair(breaks, d.Lender, d.Borrower);
                MoneyRules(breaks, "amount", d.Amount);
                break;
            case LoanRepaid r:
                Pair(breaks, r.Lender, r.Borrower);
                MoneyRules(breaks, "amount", r.Amount);
                break;
            case RevenueRecognized r:
                MoneyRules(breaks, "amount", r.Amount);
                break;
            case ExpenseIncurred x:
                MoneyRules(breaks, "amount", x.Amount);
                Required(breaks, "category", x.Category);
                break;
            case CommitmentCancelled c:
                Required(breaks, "reason", c.Reason);
                break;
            case EntryReversed r:
                Required(breaks, "reason", r.Reason);
                if (r.EventId == Guid.Empty)
                {
                    breaks.Add(RuleBreak.Malformed("eventId is required."));
                }
                break;
        }
        return breaks;
    }

    private static void Pair(List<RuleBreak> breaks, string from, string to)
    {
        if (from == to)
        {
            breaks.Add(RuleBreak.Broken($"A party cannot deal with itself ('{from}' on both sides)."));
        }
    }

    private static void MoneyRules(List<RuleBreak> breaks, string field, Money money, bool allowZero = false)
    {
        if (!Money.IsCurrencyCode(money.Currency))
        {
            breaks.Add(RuleBreak.Malformed($"{field}.currency '{money.Currency}' is not an ISO 4217 code (three upper-case letters)."));
        }
        if (money.Amount < 0 || (!allowZero && money.Amount == 0))
        {
            breaks.Add(RuleBreak.Broken($"{field}.amount must be {(allowZero ? "zero or more" : "more than zero")}, not {money.Amount}."));
            return;
        }
        Bounded(breaks, $"{field}.amount", money.Amount);
    }

    private static void Positive(List<RuleBreak> breaks, string field, decimal value)
    {
        if (value <= 0)
        {
            breaks.Add(RuleBreak.Broken($"{field} must be more than zero, not {value}."));
            return;
        }
        Bounded(breaks, field, value);
    }

    private static void Bounded(List<RuleBreak> breaks, string field, decimal value)
    {
        if (value > MaxQuantity)
        {
            breaks.Add(RuleBreak.Malformed($"{field} must be at most {MaxQuantity}, not {value}."));
        }
        if (decimal.Round(value, MaxDecimals) != value)
        {
            breaks.Add(RuleBreak.Malformed($"{field} has more than {MaxDecimals} decimal places: {value}."));
        }
    }

    /// <summary>Checked by division, so the check itself cannot overflow.</summary>
    private static void Product(List<RuleBreak> breaks, string what, long quantity, decimal price)
    {
        if (quantity > 0 && price > 0 && price > MaxQuantity / quantity)
        {
            breaks.Add(RuleBreak.Malformed($"{what} must be at most {MaxQuantity}."));
        }
    }

    private static void Required(List<RuleBreak> breaks, string field, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            breaks.Add(RuleBreak.Malformed($"{field} is required."));
        }
    }

    private static void TrancheRules(List<RuleBreak> breaks, WarrantsIssued w)
    {
        if (w.Tranches is not { Count: > 0 } tranches)
        {
            return;
        }
        foreach (var tranche in tranches)
        {
            Positive(breaks, "tranches[].shares", tranche.Shares);
            Required(breaks, "tranches[].condition", tranche.Condition);
        }
        // As decimal: hostile tranches near long.MaxValue must not overflow the sum.
        var total = tranches.Sum(t => (decimal)t.Shares);
        if (total > w.Shares)
        {
            breaks.Add(RuleBreak.Broken($"The tranches add up to {total} shares, more than the {w.Shares} issued."));
        }
    }

    [GeneratedRegex("^[a-z0-9-]{1,64}$")]
    private static partial Regex Slug();
}
