using FlowLedger.Api.Audit;
using JasperFx.CommandLine;

namespace FlowLedger.Api.Commands;

[Description("Checks the hash chain over the events: prints what GET /api/audit/verify answers, exits 1 when an event was tampered with")]
public sealed class VerifyCommand : JasperFxAsyncCommand<NetCoreInput>
{
    public override async Task<bool> Execute(NetCoreInput input)
    {
        using var host = input.BuildHost();
        await host.LedgerStoreAsync();
        var report = await host.Services.GetRequiredService<AuditChain>().VerifyAsync(CancellationToken.None);
        AnalysisInput.PrintJson(report, host.Services);
        if (!report.Ok)
        {
            await Console.Error.WriteLineAsync($"The chain is broken at sequence {report.FirstBrokenSequence}: {report.Problem}");
        }
        return report.Ok;
    }
}
