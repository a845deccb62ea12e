using FlowLedger.Projections.Balances;
using Marten;
using NodaTime;
using NodaTime.Text;

namespace FlowLedger.Api.Reading;

/// <summary>
/// Answers a trace under every policy and both loop searches once at the start, before the app listens, as of the
/// ledger's first payment between companies. The app compiles each of its methods optimised at its first call (no quick
/// JIT, see FlowLedger.Api.csproj), so the first analysis after a start used to pay for compiling its whole
/// path: about a second and a half of CPU on the first trace of a 1,000,000-event store, and then half a second more
/// for the endpoint around it (its session, the company lookup, the answer's JSON) when only the analysis had been
/// warmed (docs/benchmarks.md). The endpoints run here as a request would run them, with the answer written to
/// nowhere; on the few postings of the ledger's first days that costs little, and it is paid before a client asks.
/// Only the code paths matter here, not the answers. An empty store has nothing to warm up.
/// </summary>
public sealed class AnalysisWarmUp(IServiceProvider services, IDocumentStore store, IClock clock, ILogger<AnalysisWarmUp> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (await PostingsQuery.FirstPaymentAsync(store, cancellationToken) is not { } first)
            {
                return;
            }
            var asOf = LocalDatePattern.Iso.Format(first.Day);
            await using var scope = services.CreateAsyncScope();
            await using var session = store.QuerySession();
            foreach (var policy in new[] { "proportional", "fifo", "lifo" })
            {
                var trace = await GetTraceEndpoint.Get(
                    first.Payer, asOf, knownAt: null, policy, deal: null, from: null, currency: null, session, store, clock, cancellationToken);
                await AnswerNowhereAsync(trace, scope.ServiceProvider);
            }
            foreach (var layer in new[] { "cash", "commitment" })
            {
                var loops = await GetLoopsEndpoint.Get(
                    asOf, knownAt: null, from: null, layer, maxLength: null, minAmount: null, limit: null, currency: null, store, clock, cancellationToken);
                await AnswerNowhereAsync(Results.Ok(loops), scope.ServiceProvider);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Only the first request's speed depends on it: the app serves without it.
            logger.LogWarning(e, "Warming up trace and loops failed");
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Writes the answer as the app's JSON settings would, into a discarded body.</summary>
    private static Task AnswerNowhereAsync(IResult result, IServiceProvider requestServices)
    {
        var context = new DefaultHttpContext { RequestServices = requestServices };
        context.Response.Body = Stream.Null;
        return result.ExecuteAsync(context);
    }
}
