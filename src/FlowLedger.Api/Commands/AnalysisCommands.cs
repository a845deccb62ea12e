using System.Globalization;
using System.Text.Json;
using FlowLedger.Api.Ledger;
using FlowLedger.Api.Reading;
using FlowLedger.Domain;
using FlowLedger.Projections.Analysis;
using FlowLedger.Projections.Balances;
using JasperFx.CommandLine;
using Marten;
using NodaTime;

namespace FlowLedger.Api.Commands;

public class AnalysisInput : NetCoreInput
{
    [Description("The day to look at, YYYY-MM-DD (default: no limit)")]
    [FlagAlias("as-of")]
    public string? AsOfFlag;

    [Description("What was known at this instant, ISO-8601 UTC (default: now)")]
    [FlagAlias("known-at")]
    public string? KnownAtFlag;

    [Description("Currency, ISO 4217 (default USD)")]
    [FlagAlias("currency")]
    public string? CurrencyFlag;

    [Description("Print the JSON the API answers instead of a table, and nothing else on stdout")]
    [FlagAlias("json")]
    public bool JsonFlag;

    /// <summary>The store and the point in time to read it at, as the API would, in a host that is built but not started.</summary>
    public async Task<(IDocumentStore Store, PointInTime At, IServiceProvider Services)> LedgerAtAsync(IHost host)
    {
        var store = await host.LedgerStoreAsync();
        return (store, TimeQuery.Parse(AsOfFlag, KnownAtFlag, host.Services.GetRequiredService<IClock>()), host.Services);
    }

    public static string Format(decimal amount) => amount.ToString("#,0.##", CultureInfo.InvariantCulture);

    public static void PrintJson<T>(T value, IServiceProvider services) =>
        Console.WriteLine(JsonSerializer.Serialize(value,
            services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions));
}

public sealed class TraceInput : AnalysisInput
{
    [Description("The company whose outflows to follow")]
    [FlagAlias("source")]
    public string? SourceFlag;

    [Description("proportional (default), fifo or lifo")]
    [FlagAlias("policy")]
    public string? PolicyFlag;

    [Description("Only the outflows of this deal")]
    [FlagAlias("deal")]
    public string? DealFlag;

    [Description("Only the outflows effective on or after this day")]
    [FlagAlias("from")]
    public string? FromFlag;
}

[Description("Where a company's money ended up: trace its outflows through later payments (SPEC §6)")]
public sealed class TraceCommand : JasperFxAsyncCommand<TraceInput>
{
    public override async Task<bool> Execute(TraceInput input)
    {
        using var host = input.BuildHost();
        var request = TraceRequest.Parse(input.SourceFlag, input.PolicyFlag, input.DealFlag, input.FromFlag, input.CurrencyFlag);
        var (store, at, services) = await input.LedgerAtAsync(host);
        await using (var session = store.QuerySession())
        {
            if (await session.LoadAsync<FlowLedger.Projections.CompanyProfile>(FlowLedger.Projections.CompanyProfile.StreamKeyOf(request.Source)) is null)
            {
                await Console.Error.WriteLineAsync($"No company '{request.Source}' is registered.");
                return false;
            }
        }
        var result = await request.RunAsync(store, at, CancellationToken.None);
        if (input.JsonFlag)
        {
            AnalysisInput.PrintJson(GetTraceEndpoint.TraceView.Of(at, request, result), services);
            return true;
        }
        Console.WriteLine($"Trace of {result.Source} ({request.PolicyName}, {result.Currency}) as of {at.AsOf?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "the latest day"}, as known at {at.KnownAt}");
        Console.WriteLine($"  traced {AnalysisInput.Format(result.Traced)}   returned {AnalysisInput.Format(result.ReturnedToSource)}   left the ledger {AnalysisInput.Format(result.LeftLedger)}");
        Console.WriteLine();
        Console.WriteLine($"{"held by",-24} {"amount",24}");
        foreach (var holder in result.Holders)
        {
            Console.WriteLine($"{holder.CompanyId,-24} {AnalysisInput.Format(holder.Amount),24}");
        }
        Console.WriteLine();
        Console.WriteLine($"{"from",-20} {"to",-20} {"carried",24}");
        foreach (var flow in result.Flows)
        {
            Console.WriteLine($"{flow.From,-20} {flow.To,-20} {AnalysisInput.Format(flow.Amount),24}");
        }
        return true;
    }
}

public sealed class LoopsInput : AnalysisInput
{
    [Description("cash (default) or commitment")]
    [FlagAlias("layer")]
    public string? LayerFlag;

    [Description("Longest loop, 2 to 8 (default 4)")]
    [FlagAlias("max-length")]
    public int? MaxLengthFlag;

    [Description("Smallest bottleneck to report")]
    [FlagAlias("min-amount")]
    public decimal? MinAmountFlag;

    [Description("How many loops at most (default 50)")]
    [FlagAlias("limit")]
    public int? LimitFlag;

    [Description("Only postings effective on or after this day")]
    [FlagAlias("from")]
    public string? FromFlag;
}

[Description("Round-trip capital loops: cycles of money or commitments and how much went round (SPEC §7)")]
public sealed class LoopsCommand : JasperFxAsyncCommand<LoopsInput>
{
    public override async Task<bool> Execute(LoopsInput input)
    {
        using var host = input.BuildHost();
        var request = LoopsRequest.Parse(input.FromFlag, input.LayerFlag, input.MaxLengthFlag, input.MinAmountFlag, input.LimitFlag, input.CurrencyFlag);
        var (store, at, services) = await input.LedgerAtAsync(host);
        var result = await GetLoopsEndpoint.ViewAsync(store, at, request, CancellationToken.None);
        if (input.JsonFlag)
        {
            AnalysisInput.PrintJson(result, services);
            return true;
        }
        Console.WriteLine($"{request.LayerName} loops ({request.Currency}) as of {at.AsOf?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "the latest day"}, as known at {at.KnownAt}{(result.Truncated ? " — truncated" : "")}");
        Console.WriteLine();
        Console.WriteLine($"{"loop",-50} {"bottleneck",22} {"went round",22} {"closed on",-10}");
        foreach (var loop in result.Loops)
        {
            Console.WriteLine($"{string.Join(" → ", loop.Path),-50} {AnalysisInput.Format(loop.Bottleneck),22} " +
                $"{(loop.TemporalFlow is { } flow ? AnalysisInput.Format(flow) : "—"),22} {loop.ClosedOn?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "—",-10}");
        }
        return true;
    }
}
