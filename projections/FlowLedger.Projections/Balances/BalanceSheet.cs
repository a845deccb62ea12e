using System.Text.Json.Serialization;
using FlowLedger.Domain;

namespace FlowLedger.Projections.Balances;

/// <summary>What postings between two parties add up to, in one layer and asset.</summary>
public sealed record PostingTotal(Layer Layer, string Asset, string From, string To, decimal Quantity);

public sealed record CashBalance(decimal In, decimal Out)
{
    public decimal Net => In - Out;
}

public sealed record CommitmentBalance(decimal Receivable, decimal Payable);

/// <summary>A net holding; warrants show their vested and unvested parts instead of one quantity.</summary>
public sealed record Holding(
    string Asset,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] decimal? Quantity = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] decimal? Vested = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] decimal? Unvested = null);

public sealed record Counterparty(string CompanyId, string Currency, decimal Paid, decimal Received, decimal CommittedTo, decimal CommittedFrom);

public sealed record CompanyBalance(
    string CompanyId,
    IReadOnlyDictionary<string, CashBalance> Cash,
    IReadOnlyDictionary<string, CommitmentBalance> Commitments,
    IReadOnlyList<Holding> Holdings,
    IReadOnlyList<Counterparty> Counterparties);

/// <summary>
/// A company's position (SPEC §5) from the totals of the postings it takes part in. Pure, so the
/// projection's answer and a from-scratch fold of the events go through the same arithmetic.
/// </summary>
public static class BalanceSheet
{
    private const string UnvestedPrefix = "warrants-unvested:";
    private const string VestedPrefix = "warrants-vested:";

    public static CompanyBalance For(string companyId, IEnumerable<PostingTotal> totals)
    {
        // Each total seen from the company: what it gained (+) or gave (−), and with whom.
        var mine = totals
            .Where(t => t.From != t.To && (t.From == companyId || t.To == companyId))
            .Select(t => (t.Layer, t.Asset, Other: t.To == companyId ? t.From : t.To, Gained: t.To == companyId ? t.Quantity : -t.Quantity))
            .ToList();

        var cash = mine.Where(m => m.Layer == Layer.Cash)
            .GroupBy(m => m.Asset, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => new CashBalance(g.Where(m => m.Gained > 0).Sum(m => m.Gained), -g.Where(m => m.Gained < 0).Sum(m => m.Gained)));

        var promises = mine.Where(m => m.Layer == Layer.Commitment)
            .Select(m => (Currency: Assets.CurrencyOf(m.Asset), Mine: Assets.ObligorOf(m.Asset) == companyId, m.Other, m.Gained))
            .ToList();
        var commitments = promises
            .GroupBy(p => p.Currency, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => new CommitmentBalance(
                Receivable: g.Where(p => !p.Mine).Sum(p => p.Gained),
                Payable: -g.Where(p => p.Mine).Sum(p => p.Gained)));

        var counterparties = mine
            .Where(m => m.Layer != Layer.Holding && m.Other != Parties.External)
            .GroupBy(m => (m.Other, Currency: Assets.CurrencyOf(m.Asset)))
            .Select(g => new Counterparty(g.Key.Other, g.Key.Currency,
                Paid: -g.Where(m => m.Layer == Layer.Cash && m.Gained < 0).Sum(m => m.Gained),
                Received: g.Where(m => m.Layer == Layer.Cash && m.Gained > 0).Sum(m => m.Gained),
                CommittedTo: -g.Where(m => m.Layer == Layer.Commitment && Assets.ObligorOf(m.Asset) == companyId).Sum(m => m.Gained),
                CommittedFrom: g.Where(m => m.Layer == Layer.Commitment && Assets.ObligorOf(m.Asset) != companyId).Sum(m => m.Gained)))
            .Where(c => c.Paid != 0 || c.Received != 0 || c.CommittedTo != 0 || c.CommittedFrom != 0)
            .OrderBy(c => c.CompanyId, StringComparer.Ordinal).ThenBy(c => c.Currency, StringComparer.Ordinal)
            .ToList();

        return new CompanyBalance(companyId, cash, commitments, HoldingsOf(mine.Where(m => m.Layer == Layer.Holding).Select(m => (m.Asset, m.Gained))), counterparties);
    }

    private static List<Holding> HoldingsOf(IEnumerable<(string Asset, decimal Gained)> holdings)
    {
        var net = holdings.GroupBy(h => h.Asset, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Sum(h => h.Gained), StringComparer.Ordinal);
        var warrants = net.Keys
            .Where(a => a.StartsWith(UnvestedPrefix, StringComparison.Ordinal) || a.StartsWith(VestedPrefix, StringComparison.Ordinal))
            .Select(a => a[(a.IndexOf(':') + 1)..])
            .Distinct()
            .Select(issuer => new Holding($"warrants:{issuer}",
                Vested: net.GetValueOrDefault(VestedPrefix + issuer), Unvested: net.GetValueOrDefault(UnvestedPrefix + issuer)))
            .Where(h => h.Vested != 0 || h.Unvested != 0);
        var others = net
            .Where(n => !n.Key.StartsWith("warrants-", StringComparison.Ordinal) && n.Value != 0)
            .Select(n => new Holding(n.Key, Quantity: n.Value));
        return others.Concat(warrants).OrderBy(h => h.Asset, StringComparer.Ordinal).ToList();
    }
}
