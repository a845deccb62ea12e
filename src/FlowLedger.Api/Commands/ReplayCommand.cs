using System.Globalization;
using FlowLedger.Api.Ledger;
using FlowLedger.Projections;
using FlowLedger.Projections.Balances;
using JasperFx.CommandLine;
using Marten;
using NodaTime;

namespace FlowLedger.Api.Commands;

public sealed class ReplayInput : NetCoreInput
{
    [Description("The day to show positions on, YYYY-MM-DD (default: no limit)")]
    [FlagAlias("to")]
    public string? ToFlag;

    [Description("Show what was known at this instant, ISO-8601 UTC (default: now)")]
    [FlagAlias("known-at")]
    public string? KnownAtFlag;
}

[Description("Prints every company's cash and commitments on a day, as known at an instant, from the postings projection")]
public sealed class ReplayCommand : JasperFxAsyncCommand<ReplayInput>
{
    public override async Task<bool> Execute(ReplayInput input)
    {
        using var host = input.BuildHost();
        var store = await host.LedgerStoreAsync();
        var at = TimeQuery.Parse(input.ToFlag, input.KnownAtFlag, host.Services.GetRequiredService<IClock>(), asOfName: "--to");
        await using var session = store.QuerySession();
        var companies = await session.Query<CompanyProfile>().OrderBy(c => c.CompanyId).ToListAsync();
        var totals = await PostingsQuery.TotalsAsync(store, at.AsOf, at.KnownAt!.Value, party: null, CancellationToken.None);

        Console.WriteLine($"Positions as of {at.AsOf?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "the latest day"}, as known at {at.KnownAt}");
        Console.WriteLine();
        Console.WriteLine($"{"company",-20} {"cur",-4} {"cash in",20} {"cash out",20} {"cash net",20} {"receivable",20} {"payable",20}");
        foreach (var company in companies)
        {
            var balance = BalanceSheet.For(company.CompanyId, totals);
            foreach (var currency in balance.Cash.Keys.Union(balance.Commitments.Keys).Order(StringComparer.Ordinal))
            {
                var cash = balance.Cash.GetValueOrDefault(currency) ?? new CashBalance(0, 0);
                var promised = balance.Commitments.GetValueOrDefault(currency) ?? new CommitmentBalance(0, 0);
                Console.WriteLine(
                    $"{company.CompanyId,-20} {currency,-4} {Format(cash.In),20} {Format(cash.Out),20} {Format(cash.Net),20} {Format(promised.Receivable),20} {Format(promised.Payable),20}");
            }
        }
        return true;
    }

    private static string Format(decimal amount) => amount.ToString("#,0.##", CultureInfo.InvariantCulture);
}
