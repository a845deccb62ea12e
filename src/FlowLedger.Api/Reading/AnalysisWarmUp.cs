using FlowLedger.Domain;
using FlowLedger.Projections.Balances;
using Marten;
using NodaTime;

namespace FlowLedger.Api.Reading;

/// <summary>
/// Runs every trace policy and both loop searches once at the start, before the app listens, on the postings up to
/// the ledger's first payment. The app compiles each method optimised at its first call (no tiered compilation, see
/// FlowLedger.Api.csproj), so the first analysis after a start used to pay for compiling its whole read and
/// per-posting path: about a second and a half of CPU on the first trace of a 1,000,000-event store
/// (docs/benchmarks.md). On the few postings of the ledger's first days that is paid before a client asks, and not
/// while one does; only the code paths matter here, not the answers. An empty store has nothing to warm up.
/// </summary>
public sealed class AnalysisWarmUp(IDocumentStore store, IClock clock, ILogger<AnalysisWarmUp> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (await PostingsQuery.FirstPaymentDayAsync(store, cancellationToken) is not { } firstDay)
            {
                return;
            }
            var at = new PointInTime(firstDay, clock.GetCurrentInstant());
            foreach (var policy in new[] { "proportional", "fifo", "lifo" })
            {
                // Any company id will do: every payment of those days goes through the same code whoever the source is.
                await TraceRequest.Parse("warm-up", policy, deal: null, from: null, currency: null).RunAsync(store, at, cancellationToken);
            }
            foreach (var layer in new[] { Layer.Cash, Layer.Commitment })
            {
                await LoopsRequest.Default(layer).RunAsync(store, at, cancellationToken);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Only the first request's speed depends on it: the app serves without it.
            logger.LogWarning(e, "Warming up trace and loops failed");
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
