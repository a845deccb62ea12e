namespace FlowLedger.Domain;

/// <summary>Where a posting lives: money that moved, money promised, or things held.</summary>
public enum Layer { Cash, Commitment, Holding }

/// <summary>
/// One double-entry movement: <see cref="From"/> loses <see cref="Quantity"/> of <see cref="Asset"/>
/// and <see cref="To"/> gains it, so the postings of any asset always sum to zero.
/// </summary>
/// <remarks>Asset names are made by <see cref="Assets"/>.</remarks>
public sealed record Posting(Layer Layer, string Asset, string From, string To, decimal Quantity);

public static class Parties
{
    /// <summary>Customers, suppliers and markets: revenue comes from it, expenses go to it. Never a loop node.</summary>
    public const string External = "@external";
}

/// <summary>
/// What a posting moves. Cash is keyed by currency code ("USD"). A commitment is a promise of its
/// obligor, <c>promise:{obligor}:{currency}</c>, so a promise made (obligor → obligee) and one
/// released (obligee → obligor) stay apart from a promise in the other direction. Holdings are keyed
/// by kind and subject.
/// </summary>
public static class Assets
{
    private const string PromisePrefix = "promise:";

    public static string Cash(string currency) => currency;
    public static string Promise(string obligor, string currency) => $"{PromisePrefix}{obligor}:{currency}";
    public static string Shares(string issuer) => $"shares:{issuer}";
    public static string UnvestedWarrants(string issuer) => $"warrants-unvested:{issuer}";
    public static string VestedWarrants(string issuer) => $"warrants-vested:{issuer}";
    public static string Chips(string model) => $"chips:{model}";
    public static string Capacity(string unit) => $"capacity:{unit}";

    /// <summary>A lender's claim on a borrower, in one currency.</summary>
    public static string Loan(string currency) => $"loan:{currency}";

    /// <summary>The currency of a cash or commitment asset.</summary>
    public static string CurrencyOf(string asset) =>
        asset.StartsWith(PromisePrefix, StringComparison.Ordinal) ? asset[(asset.LastIndexOf(':') + 1)..] : asset;

    /// <summary>Who made the promise of a commitment asset.</summary>
    public static string ObligorOf(string promise) =>
        promise[PromisePrefix.Length..promise.LastIndexOf(':')];
}

public static class RegistrationPostings
{
    /// <summary>Opening cash comes in from outside the ledger on the registration's day (SPEC §3).</summary>
    public static IReadOnlyList<Posting> Of(CompanyRegistered registration) =>
        registration.OpeningCash is { Amount: > 0 } cash
            ? [new Posting(Layer.Cash, Assets.Cash(cash.Currency), Parties.External, registration.CompanyId, cash.Amount)]
            : [];
}
