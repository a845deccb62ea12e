using FlowLedger.Domain;
using FlowLedger.Projections.Balances;
using Marten;
using NodaTime;

namespace FlowLedger.Api.Reading;

/// <summary>
/// Runs every trace policy and both loop searches once, in the background right after the start, on the postings up to
/// the ledger's first payment. The app compiles each method optimised at its first call (no tiered compilation, see
/// FlowLedger.Api.csproj), so the first analysis after a start used to pay for compiling its whole read and
/// per-posting path: about a second and a half of CPU on the first trace of a 1,000,000-event store
/// (docs/benchmarks.md). On the few postings of the ledger's first days that is paid before a client asks; only
/// the code paths matter here, not the answers.
/// </summary>
public sealed class AnalysisWarmUp(IDocumentStore store, IClock clock, IHostApplicationLifetime lifetime, ILogger<AnalysisWarmUp> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        await using (stoppingToken.Register(() => started.TrySetCanceled(stoppingToken)))
        {
            await started.Task;
        }
        try
        {
            if (await PostingsQuery.FirstPaymentDayAsync(store, stoppingToken) is not { } firstDay)
            {
                return;
            }
            var at = new PointInTime(firstDay, clock.GetCurrentInstant());
            foreach (var policy in new[] { "proportional", "fifo", "lifo" })
            {
                // Any company id will do: every payment of the day goes through the same code whoever the source is.
                await TraceRequest.Parse("warm-up", policy, deal: null, from: null, currency: null).RunAsync(store, at, stoppingToken);
            }
            foreach (var layer in new[] { Layer.Cash, Layer.Commitment })
            {
                await LoopsRequest.Default(layer).RunAsync(store, at, stoppingToken);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Only the first request's speed depends on it: the app serves without it.
            logger.LogWarning(e, "Warming up trace and loops failed");
        }
    }
}
