using FlowLedger.Domain;
using NodaTime;
using static FlowLedger.Tests.Builders.Ledger;

namespace FlowLedger.Tests.Builders;

/// <summary>
/// Events with every field a test does not care about filled in. Unless told otherwise, an event is
/// effective on 2025-03-01.
/// </summary>
internal static class Make
{
    private static readonly LocalDate DefaultDay = Day(3);

    public static CompanyRegistered Company(string companyId, Money? openingCash = null, string name = "A company") =>
        new(companyId, name, CompanyKind.Other, DefaultDay, OpeningCash: openingCash);

    public static InvestmentAnnounced Announcement(string investor, string investee, Money upTo, LocalDate? on = null) =>
        new(investor, investee, upTo, Instrument.Equity, on ?? DefaultDay);

    public static InvestmentFunded Funding(
        string investor, string investee, Money amount, LocalDate? on = null, long? shares = null) =>
        new(investor, investee, amount, on ?? DefaultDay, shares);

    public static WarrantsIssued Issue(
        string issuer, string holder, long shares, Money strikePrice, LocalDate? on = null,
        IReadOnlyList<WarrantTranche>? tranches = null) =>
        new(issuer, holder, shares, strikePrice, on ?? DefaultDay, tranches);

    public static WarrantsVested Vest(string issuer, string holder, long shares, LocalDate? on = null) =>
        new(issuer, holder, shares, on ?? DefaultDay);

    public static WarrantsExercised Exercise(string issuer, string holder, long shares, LocalDate? on = null) =>
        new(issuer, holder, shares, on ?? DefaultDay);

    public static PurchaseCommitted PurchaseCommitment(
        string buyer, string seller, Money? amount = null, Capacity? capacity = null, LocalDate? on = null) =>
        new(buyer, seller, on ?? DefaultDay, amount, capacity);

    public static ChipsPurchased Chips(
        string buyer, string vendor, long units, Money unitPrice, LocalDate? on = null, string model = "H100") =>
        new(buyer, vendor, model, units, unitPrice, on ?? DefaultDay);

    public static ServicesPaid Services(
        string payer, string payee, Money amount, LocalDate? on = null, string description = "GPU hours") =>
        new(payer, payee, amount, description, on ?? DefaultDay);

    public static LoanDrawn Loan(string lender, string borrower, Money amount, LocalDate? on = null) =>
        new(lender, borrower, amount, on ?? DefaultDay);

    public static LoanRepaid Repayment(string lender, string borrower, Money amount, LocalDate? on = null) =>
        new(lender, borrower, amount, on ?? DefaultDay);

    public static RevenueRecognized Revenue(string company, Money amount, LocalDate? on = null) =>
        new(company, amount, on ?? DefaultDay);

    public static ExpenseIncurred Expense(string company, Money amount, LocalDate? on = null, string category = "power") =>
        new(company, amount, category, on ?? DefaultDay);

    public static CommitmentCancelled Cancellation(LocalDate? on = null, string reason = "deal called off") =>
        new(reason, on ?? DefaultDay);

    /// <summary>The reversal of a recorded event, effective on the target's day unless told otherwise.</summary>
    public static EntryReversed Reversal(RecordedEntry target, LocalDate? on = null) =>
        Reversal(target.EventId, on ?? target.EffectiveOn);

    public static EntryReversed Reversal(Guid eventId, LocalDate on, string reason = "wrong figure") =>
        new(eventId, reason, on);
}
