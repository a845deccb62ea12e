using NodaTime;

namespace FlowLedger.Domain;

/// <summary>
/// Every fact the ledger records. Each event is also the command that records it (SPEC §4):
/// clients send these fields and the server appends them unchanged after validation.
/// </summary>
public interface ILedgerEvent
{
    /// <summary>Valid time: the day the fact happened in the world.</summary>
    LocalDate EffectiveOn { get; }

    /// <summary>Where the figure comes from (a release, a filing, a press report).</summary>
    string? Source { get; }

    string? Note { get; }
}

/// <summary>An event that belongs to a deal stream — every event except <see cref="CompanyRegistered"/>.</summary>
public interface IDealEvent : ILedgerEvent;

public enum CompanyKind { ChipVendor, AiLab, Cloud, Investor, Bank, Other }

public enum Instrument { Equity, Convertible, Debt }

public sealed record WarrantTranche(long Shares, string Condition);

public sealed record CompanyRegistered(
    string CompanyId, string Name, CompanyKind Kind, LocalDate EffectiveOn,
    string? Ticker = null, Money? OpeningCash = null, string? Source = null, string? Note = null) : ILedgerEvent;

public sealed record InvestmentAnnounced(
    string Investor, string Investee, Money UpTo, Instrument Instrument, LocalDate EffectiveOn,
    IReadOnlyList<string>? Milestones = null, string? Source = null, string? Note = null) : IDealEvent;

public sealed record InvestmentFunded(
    string Investor, string Investee, Money Amount, LocalDate EffectiveOn,
    long? Shares = null, string? Source = null, string? Note = null) : IDealEvent;

public sealed record WarrantsIssued(
    string Issuer, string Holder, long Shares, Money StrikePrice, LocalDate EffectiveOn,
    IReadOnlyList<WarrantTranche>? Tranches = null, string? Source = null, string? Note = null) : IDealEvent;

public sealed record WarrantsVested(
    string Issuer, string Holder, long Shares,
    LocalDate EffectiveOn, string? Source = null, string? Note = null) : IDealEvent;

public sealed record WarrantsExercised(
    string Issuer, string Holder, long Shares,
    LocalDate EffectiveOn, string? Source = null, string? Note = null) : IDealEvent;

public sealed record PurchaseCommitted(
    string Buyer, string Seller, LocalDate EffectiveOn,
    Money? Amount = null, Capacity? Capacity = null, string? Source = null, string? Note = null) : IDealEvent;

public sealed record ChipsPurchased(
    string Buyer, string Vendor, string ChipModel, long Units, Money UnitPrice,
    LocalDate EffectiveOn, string? Source = null, string? Note = null) : IDealEvent
{
    public Money TotalPrice() => UnitPrice.Times(Units);
}

public sealed record ServicesPaid(
    string Payer, string Payee, Money Amount, string Description,
    LocalDate EffectiveOn, string? Source = null, string? Note = null) : IDealEvent;

public sealed record LoanDrawn(
    string Lender, string Borrower, Money Amount,
    LocalDate EffectiveOn, string? Source = null, string? Note = null) : IDealEvent;

public sealed record LoanRepaid(
    string Lender, string Borrower, Money Amount,
    LocalDate EffectiveOn, string? Source = null, string? Note = null) : IDealEvent;

public sealed record RevenueRecognized(
    string Company, Money Amount, LocalDate EffectiveOn,
    string? Description = null, string? Source = null, string? Note = null) : IDealEvent;

public sealed record ExpenseIncurred(
    string Company, Money Amount, string Category,
    LocalDate EffectiveOn, string? Source = null, string? Note = null) : IDealEvent;

public sealed record CommitmentCancelled(
    string Reason,
    LocalDate EffectiveOn, string? Source = null, string? Note = null) : IDealEvent;

/// <summary>
/// Takes back a recorded event. Its valid time is always the target's, so a reversal removes the
/// target from every view known after the reversal was recorded.
/// </summary>
public sealed record EntryReversed(
    Guid EventId, string Reason,
    LocalDate EffectiveOn, string? Source = null, string? Note = null) : IDealEvent;

/// <summary>The wire name of every event type: the "type" of a request body and of a stored event.</summary>
public static class EventCatalog
{
    public static readonly IReadOnlyDictionary<string, Type> Types = new[]
    {
        typeof(CompanyRegistered), typeof(InvestmentAnnounced), typeof(InvestmentFunded), typeof(WarrantsIssued),
        typeof(WarrantsVested), typeof(WarrantsExercised), typeof(PurchaseCommitted), typeof(ChipsPurchased),
        typeof(ServicesPaid), typeof(LoanDrawn), typeof(LoanRepaid), typeof(RevenueRecognized),
        typeof(ExpenseIncurred), typeof(CommitmentCancelled), typeof(EntryReversed),
    }.ToDictionary(t => t.Name, StringComparer.Ordinal);
}
