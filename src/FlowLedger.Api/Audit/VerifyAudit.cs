using Wolverine.Http;

namespace FlowLedger.Api.Audit;

/// <summary>GET /api/audit/verify — checks the hash chain over every sealed event (SPEC §10). Readers may call it: auditors read.</summary>
public static class VerifyAuditEndpoint
{
    [WolverineGet("/api/audit/verify", OperationId = "VerifyAudit")]
    [Tags("Audit")]
    public static Task<AuditReport> Get(AuditChain chain, CancellationToken ct) => chain.VerifyAsync(ct);
}

/// <summary>
/// Seals new events into the chain every few seconds, so the window in which a freshly committed
/// event could be altered unnoticed stays short even when nobody calls verify.
/// </summary>
public sealed class AuditChainFollower(AuditChain chain, IConfiguration configuration, ILogger<AuditChainFollower> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(configuration.GetValue("FlowLedger:Audit:SealEverySeconds", 2.0));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await chain.ExtendAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The database may be restarting; the next round picks up where the chain ends.
                logger.LogWarning(ex, "Could not extend the audit chain; retrying in {Interval}", interval);
            }
            await Task.Delay(interval, stoppingToken);
        }
    }
}
