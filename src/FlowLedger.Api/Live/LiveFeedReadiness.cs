using Wolverine.Runtime;

namespace FlowLedger.Api.Live;

/// <summary>
/// Holds the start, before the app listens, until the live feed runs on some node of the cluster. Wolverine's leader
/// assigns the feed a few seconds after the node joins; a node that answered before that gave its first subscribers
/// nothing live until then, and the agents' own start (about a second of compilation) competed with its first
/// requests (docs/benchmarks.md). A node joining a cluster whose feed already runs elsewhere does not wait.
/// Bounded: past <see cref="Patience"/> the app serves anyway, and says so.
/// </summary>
public sealed class LiveFeedReadiness(IWolverineRuntime runtime, ILogger<LiveFeedReadiness> logger) : IHostedService
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan PollEvery = TimeSpan.FromMilliseconds(200);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await RunsSomewhereAsync(cancellationToken))
        {
            if (DateTime.UtcNow >= deadline)
            {
                logger.LogWarning("The live feed runs on no node after {Patience}; serving anyway, live updates start once Wolverine assigns it", Patience);
                return;
            }
            await Task.Delay(PollEvery, cancellationToken);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task<bool> RunsSomewhereAsync(CancellationToken ct)
    {
        // Solo mode starts every agent here without recording it on the node table.
        if (runtime.Agents.AllRunningAgentUris().Any(IsLiveFeed))
        {
            return true;
        }
        var nodes = await runtime.Storage.Nodes.LoadAllNodesAsync(ct);
        return nodes.Any(node => node.ActiveAgents.Any(IsLiveFeed));
    }

    /// <summary>Marten's subscription agents are named <c>event-subscriptions://marten/{store}/{database}/{name}/all</c>.</summary>
    private static bool IsLiveFeed(Uri agent) =>
        agent.Scheme == "event-subscriptions" && agent.AbsolutePath.EndsWith($"/{LiveFeedSubscription.Name}/all", StringComparison.Ordinal);
}
