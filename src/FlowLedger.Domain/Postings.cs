namespace FlowLedger.Domain;

/// <summary>Where a posting lives: money that moved, money promised, or things held.</summary>
public enum Layer { Cash, Commitment, Holding }

/// <summary>
/// One double-entry movement: <see cref="From"/> loses <see cref="Quantity"/> of <see cref="Asset"/>
/// and <see cref="To"/> gains it, so the postings of any asset always sum to zero.
/// </summary>
/// <remarks>
/// Assets: cash and commitments are keyed by currency code ("USD"); holdings by kind and subject:
/// <c>shares:{issuer}</c>, <c>warrants-unvested:{issuer}</c>, <c>warrants-vested:{issuer}</c>,
/// <c>chips:{model}</c>, <c>capacity:{unit}</c>, <c>loan:{currency}</c> (a claim of the lender on the borrower).
/// </remarks>
public sealed record Posting(Layer Layer, string Asset, string From, string To, decimal Quantity)
{
    public Posting Swapped() => this with { From = To, To = From };
}

public static class Parties
{
    /// <summary>Customers, suppliers and markets: revenue comes from it, expenses go to it. Never a loop node.</summary>
    public const string External = "@external";
}

public static class HoldingAssets
{
    public static string Shares(string issuer) => $"shares:{issuer}";
    public static string UnvestedWarrants(string issuer) => $"warrants-unvested:{issuer}";
    public static string VestedWarrants(string issuer) => $"warrants-vested:{issuer}";
    public static string Chips(string model) => $"chips:{model}";
    public static string Capacity(string unit) => $"capacity:{unit}";
    public static string Loan(string currency) => $"loan:{currency}";
}
