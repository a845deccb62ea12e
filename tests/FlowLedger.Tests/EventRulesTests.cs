using System.Text.Json;
using FlowLedger.Domain;
using FlowLedger.Tests.Builders;
using static FlowLedger.Tests.Builders.Ledger;

namespace FlowLedger.Tests;

/// <summary>The rules an event is checked against on its own (SPEC §3–§4), and the companies it names.</summary>
public sealed class EventRulesTests
{
    private static readonly Capacity OneGigawatt = new(1m, "GW");

    /// <summary>A well-formed event of each type between two companies, given in the order of its roles.</summary>
    private static readonly Dictionary<string, Func<string, string, ILedgerEvent>> BetweenTwo = new()
    {
        [nameof(InvestmentAnnounced)] = (investor, investee) => Make.Announcement(investor, investee, Usd(100)),
        [nameof(InvestmentFunded)] = (investor, investee) => Make.Funding(investor, investee, Usd(100), shares: 10),
        [nameof(WarrantsIssued)] = (issuer, holder) =>
            Make.Issue(issuer, holder, 100, Usd(0.01m), tranches: [new WarrantTranche(40, "1 GW deployed")]),
        [nameof(WarrantsVested)] = (issuer, holder) => Make.Vest(issuer, holder, 10),
        [nameof(WarrantsExercised)] = (issuer, holder) => Make.Exercise(issuer, holder, 10),
        [nameof(PurchaseCommitted)] = (buyer, seller) => Make.PurchaseCommitment(buyer, seller, Usd(100), OneGigawatt),
        [nameof(ChipsPurchased)] = (buyer, vendor) => Make.Chips(buyer, vendor, 10, Usd(3)),
        [nameof(ServicesPaid)] = (payer, payee) => Make.Services(payer, payee, Usd(40)),
        [nameof(LoanDrawn)] = (lender, borrower) => Make.Loan(lender, borrower, Usd(100)),
        [nameof(LoanRepaid)] = (lender, borrower) => Make.Repayment(lender, borrower, Usd(100)),
    };

    private static readonly Dictionary<string, Func<string, ILedgerEvent>> OfOne = new()
    {
        [nameof(CompanyRegistered)] = company => Make.Company(company, Usd(10)),
        [nameof(RevenueRecognized)] = company => Make.Revenue(company, Usd(12)),
        [nameof(ExpenseIncurred)] = company => Make.Expense(company, Usd(7)),
    };

    private static readonly Dictionary<string, ILedgerEvent> OfNone = new()
    {
        [nameof(CommitmentCancelled)] = Make.Cancellation(),
        [nameof(EntryReversed)] = Make.Reversal(Guid.NewGuid(), Day(3)),
    };

    private static readonly Dictionary<string, Func<Money, ILedgerEvent>> PositiveMoney = new()
    {
        ["InvestmentAnnounced.upTo"] = upTo => Make.Announcement(Nvidia, OpenAi, upTo),
        ["InvestmentFunded.amount"] = amount => Make.Funding(Nvidia, OpenAi, amount),
        ["PurchaseCommitted.amount"] = amount => Make.PurchaseCommitment(OpenAi, Oracle, amount: amount),
        ["ChipsPurchased.unitPrice"] = unitPrice => Make.Chips(OpenAi, Nvidia, 10, unitPrice),
        ["ServicesPaid.amount"] = amount => Make.Services(OpenAi, Oracle, amount),
        ["LoanDrawn.amount"] = amount => Make.Loan(Nvidia, OpenAi, amount),
        ["LoanRepaid.amount"] = amount => Make.Repayment(Nvidia, OpenAi, amount),
        ["RevenueRecognized.amount"] = amount => Make.Revenue(OpenAi, amount),
        ["ExpenseIncurred.amount"] = amount => Make.Expense(OpenAi, amount),
    };

    private static readonly Dictionary<string, Func<Money, ILedgerEvent>> MoneyThatMayBeZero = new()
    {
        ["WarrantsIssued.strikePrice"] = strike => Make.Issue(Amd, OpenAi, 100, strike),
        ["CompanyRegistered.openingCash"] = openingCash => Make.Company(Nvidia, openingCash),
    };

    private static readonly Dictionary<string, Func<long, ILedgerEvent>> PositiveCounts = new()
    {
        ["InvestmentFunded.shares"] = shares => Make.Funding(Nvidia, OpenAi, Usd(100), shares: shares),
        ["WarrantsIssued.shares"] = shares => Make.Issue(Amd, OpenAi, shares, Usd(1)),
        ["WarrantsIssued.tranches[].shares"] = shares =>
            Make.Issue(Amd, OpenAi, 100, Usd(1), tranches: [new WarrantTranche(shares, "1 GW deployed")]),
        ["WarrantsVested.shares"] = shares => Make.Vest(Amd, OpenAi, shares),
        ["WarrantsExercised.shares"] = shares => Make.Exercise(Amd, OpenAi, shares),
        ["ChipsPurchased.units"] = units => Make.Chips(OpenAi, Nvidia, units, Usd(3)),
        ["PurchaseCommitted.capacity.value"] = value => Make.PurchaseCommitment(OpenAi, Oracle, capacity: new Capacity(value, "GW")),
    };

    private static readonly Dictionary<string, Func<string, ILedgerEvent>> RequiredText = new()
    {
        ["CompanyRegistered.name"] = name => Make.Company(Nvidia, name: name),
        ["ChipsPurchased.chipModel"] = model => Make.Chips(OpenAi, Nvidia, 10, Usd(3), model: model),
        ["ServicesPaid.description"] = description => Make.Services(OpenAi, Oracle, Usd(40), description: description),
        ["ExpenseIncurred.category"] = category => Make.Expense(OpenAi, Usd(7), category: category),
        ["CommitmentCancelled.reason"] = reason => Make.Cancellation(reason: reason),
        ["EntryReversed.reason"] = reason => Make.Reversal(Guid.NewGuid(), Day(3), reason),
        ["PurchaseCommitted.capacity.unit"] = unit => Make.PurchaseCommitment(OpenAi, Oracle, capacity: new Capacity(1m, unit)),
        ["WarrantsIssued.tranches[].condition"] = condition =>
            Make.Issue(Amd, OpenAi, 100, Usd(1), tranches: [new WarrantTranche(40, condition)]),
    };

    public static TheoryData<string> EventTypes => new(EventCatalog.Types.Keys);

    public static TheoryData<string> TwoPartyEventTypes => new(BetweenTwo.Keys);

    public static TheoryData<string> OnePartyEventTypes => new(OfOne.Keys);

    public static TheoryData<string> EventTypesWithoutParties => new(OfNone.Keys);

    public static TheoryData<string> MoneyFields => new(PositiveMoney.Keys.Concat(MoneyThatMayBeZero.Keys));

    public static TheoryData<string> MoneyFieldsThatMayBeZero => new(MoneyThatMayBeZero.Keys);

    public static TheoryData<string, int> ZeroOrNegativeAmounts => ZeroOrNegative(PositiveMoney.Keys);

    public static TheoryData<string, int> ZeroOrNegativeCounts => ZeroOrNegative(PositiveCounts.Keys);

    public static TheoryData<string> PositiveCountFields => new(PositiveCounts.Keys);

    public static TheoryData<string, string> BlankTexts => new(
        from text in RequiredText.Keys
        from blank in new[] { "", "   " }
        select (text, blank));

    [Fact]
    public void Every_event_type_of_the_catalog_has_a_sample_here() =>
        Assert.Equal(
            EventCatalog.Types.Keys.Order(StringComparer.Ordinal),
            BetweenTwo.Keys.Concat(OfOne.Keys).Concat(OfNone.Keys).Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(EventTypes))]
    public void The_party_fields_hold_exactly_the_parties_of_every_event_type(string type)
    {
        var sample = SampleOf(type);
        var inPartyFields = sample.GetType().GetProperties()
            .Where(p => EventRules.PartyFields.Contains(JsonNamingPolicy.CamelCase.ConvertName(p.Name)))
            .Select(p => (string)p.GetValue(sample)!);

        Assert.Equal(EventRules.PartiesOf(sample).Order(), inPartyFields.Order());
    }

    [Theory]
    [MemberData(nameof(EventTypes))]
    public void A_well_formed_event_of_every_type_breaks_no_rule(string type) =>
        Assert.Empty(EventRules.Check(SampleOf(type)));

    // Company ids

    [Theory]
    [InlineData("nvidia")]
    [InlineData("x")]
    [InlineData("coreweave-2")]
    [InlineData("0-9")]
    public void A_company_id_is_a_lower_case_slug(string id) => Assert.True(EventRules.IsSlug(id));

    [Theory]
    [InlineData("")]
    [InlineData("NVIDIA")]
    [InlineData("open ai")]
    [InlineData("open_ai")]
    [InlineData("open.ai")]
    [InlineData(Parties.External)]
    public void A_company_id_with_other_characters_is_not_a_slug(string id) => Assert.False(EventRules.IsSlug(id));

    [Fact]
    public void A_company_id_is_at_most_64_characters_long()
    {
        Assert.True(EventRules.IsSlug(new string('a', 64)));
        Assert.False(EventRules.IsSlug(new string('a', 65)));
    }

    [Fact]
    public void Registering_a_company_whose_id_is_not_a_slug_is_malformed() =>
        EventRules.Check(Make.Company("Open AI")).AssertRefusedAs(Refusal.Malformed);

    // Money

    [Theory]
    [InlineData("USD")]
    [InlineData("EUR")]
    [InlineData("JPY")]
    public void A_currency_is_three_upper_case_letters(string code) => Assert.True(Money.IsCurrencyCode(code));

    [Theory]
    [InlineData("usd")]
    [InlineData("US")]
    [InlineData("USDT")]
    [InlineData("U5D")]
    [InlineData(" USD")]
    [InlineData("")]
    [InlineData(null)]
    public void Anything_else_is_not_a_currency_code(string? code) => Assert.False(Money.IsCurrencyCode(code));

    [Theory]
    [MemberData(nameof(MoneyFields))]
    public void Money_in_a_malformed_currency_is_malformed(string field) =>
        EventRules.Check(MoneyEventWith(field, new Money(10m, "usd"))).AssertRefusedAs(Refusal.Malformed);

    [Theory]
    [MemberData(nameof(ZeroOrNegativeAmounts))]
    public void An_amount_of_zero_or_less_breaks_a_rule(string field, int amount) =>
        EventRules.Check(PositiveMoney[field](Usd(amount))).AssertRefusedAs(Refusal.RuleBroken);

    [Theory]
    [MemberData(nameof(MoneyFieldsThatMayBeZero))]
    public void A_strike_price_or_an_opening_cash_may_be_zero(string field) =>
        Assert.Empty(EventRules.Check(MoneyThatMayBeZero[field](Usd(0))));

    [Theory]
    [MemberData(nameof(MoneyFieldsThatMayBeZero))]
    public void A_negative_strike_price_or_opening_cash_breaks_a_rule(string field) =>
        EventRules.Check(MoneyThatMayBeZero[field](Usd(-1))).AssertRefusedAs(Refusal.RuleBroken);

    [Theory]
    [MemberData(nameof(MoneyFields))]
    public void An_amount_beyond_ten_to_the_fifteenth_is_malformed(string field) =>
        Assert.Contains(EventRules.Check(MoneyEventWith(field, Usd(EventRules.MaxQuantity + 1))), b => b.Kind == Refusal.Malformed);

    [Theory]
    [MemberData(nameof(MoneyFields))]
    public void An_amount_finer_than_a_millionth_is_malformed(string field) =>
        EventRules.Check(MoneyEventWith(field, Usd(0.0000001m + 1))).AssertRefusedAs(Refusal.Malformed);

    [Theory]
    [InlineData(-1)]
    [InlineData(1899)]
    [InlineData(3000)]
    public void A_day_outside_the_years_1900_to_2999_is_malformed(int year) =>
        EventRules.Check(Make.Services(Nvidia, OpenAi, Usd(1)) with { EffectiveOn = new NodaTime.LocalDate(year, 6, 1) }).AssertRefusedAs(Refusal.Malformed);

    [Fact]
    public void An_amount_at_the_bounds_breaks_no_rule() =>
        Assert.Empty(EventRules.Check(Make.Services(Nvidia, OpenAi, Usd(EventRules.MaxQuantity - 0.000001m))));

    [Fact]
    public void Units_times_unit_price_beyond_the_largest_amount_is_malformed() =>
        EventRules.Check(Make.Chips(OpenAi, Nvidia, 1_000_000, Usd(1_000_000_000_000m))).AssertRefusedAs(Refusal.Malformed);

    [Fact]
    public void Warrants_whose_shares_times_strike_price_exceed_the_largest_amount_are_malformed() =>
        EventRules.Check(Make.Issue(Nvidia, OpenAi, 1_000_000_000_000_000, Usd(2))).AssertRefusedAs(Refusal.Malformed);

    // Shares, units and capacity

    [Theory]
    [MemberData(nameof(PositiveCountFields))]
    public void Shares_units_or_capacity_beyond_ten_to_the_fifteenth_are_malformed(string field) =>
        Assert.Contains(EventRules.Check(PositiveCounts[field](long.MaxValue)), b => b.Kind == Refusal.Malformed);

    [Theory]
    [MemberData(nameof(ZeroOrNegativeCounts))]
    public void Shares_units_or_capacity_of_zero_or_less_break_a_rule(string field, int count) =>
        EventRules.Check(PositiveCounts[field](count)).AssertRefusedAs(Refusal.RuleBroken);

    [Fact]
    public void Tranches_may_add_up_to_exactly_the_warrants_issued() =>
        Assert.Empty(EventRules.Check(Make.Issue(Amd, OpenAi, 100, Usd(1),
            tranches: [new WarrantTranche(60, "1 GW deployed"), new WarrantTranche(40, "6 GW deployed")])));

    [Fact]
    public void Tranches_adding_up_to_more_than_the_warrants_issued_break_a_rule() =>
        EventRules.Check(Make.Issue(Amd, OpenAi, 100, Usd(1),
                tranches: [new WarrantTranche(60, "1 GW deployed"), new WarrantTranche(41, "6 GW deployed")]))
            .AssertRefusedAs(Refusal.RuleBroken);

    // Parties

    [Theory]
    [MemberData(nameof(TwoPartyEventTypes))]
    public void A_company_dealing_with_itself_breaks_a_rule(string type) =>
        EventRules.Check(BetweenTwo[type](OpenAi, OpenAi)).AssertRefusedAs(Refusal.RuleBroken);

    [Theory]
    [MemberData(nameof(TwoPartyEventTypes))]
    public void An_event_between_two_companies_names_both_in_the_order_of_their_roles(string type) =>
        Assert.Equal([Nvidia, OpenAi], EventRules.PartiesOf(BetweenTwo[type](Nvidia, OpenAi)));

    [Theory]
    [MemberData(nameof(OnePartyEventTypes))]
    public void Registration_revenue_and_expenses_name_only_their_company_never_the_outside(string type) =>
        Assert.Equal([OpenAi], EventRules.PartiesOf(OfOne[type](OpenAi)));

    [Theory]
    [MemberData(nameof(EventTypesWithoutParties))]
    public void Cancellations_and_reversals_name_no_company(string type) =>
        Assert.Empty(EventRules.PartiesOf(OfNone[type]));

    // Required fields

    [Fact]
    public void A_purchase_commitment_without_amount_or_capacity_is_malformed() =>
        EventRules.Check(Make.PurchaseCommitment(OpenAi, Oracle)).AssertRefusedAs(Refusal.Malformed);

    [Theory]
    [MemberData(nameof(BlankTexts))]
    public void A_required_text_left_blank_is_malformed(string field, string blank) =>
        EventRules.Check(RequiredText[field](blank)).AssertRefusedAs(Refusal.Malformed);

    [Fact]
    public void A_reversal_without_the_id_of_its_target_is_malformed() =>
        EventRules.Check(Make.Reversal(Guid.Empty, Day(3))).AssertRefusedAs(Refusal.Malformed);

    private static ILedgerEvent SampleOf(string type) =>
        BetweenTwo.TryGetValue(type, out var betweenTwo) ? betweenTwo(Nvidia, OpenAi)
        : OfOne.TryGetValue(type, out var ofOne) ? ofOne(OpenAi)
        : OfNone[type];

    private static ILedgerEvent MoneyEventWith(string field, Money money) =>
        PositiveMoney.TryGetValue(field, out var positive) ? positive(money) : MoneyThatMayBeZero[field](money);

    private static TheoryData<string, int> ZeroOrNegative(IEnumerable<string> fields) => new(
        from field in fields
        from quantity in new[] { 0, -1 }
        select (field, quantity));
}
