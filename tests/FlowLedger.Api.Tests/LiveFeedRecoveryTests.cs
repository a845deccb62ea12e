using FlowLedger.Api.Ledger;
using JasperFx.Events.Daemon;
using Microsoft.Extensions.DependencyInjection;

namespace FlowLedger.Api.Tests;

/// <summary>
/// How Wolverine judges a live-feed shard that stopped on a failure: a restartable one is restarted after a
/// back-off, any other is left stopped until someone acts. <see cref="DatabaseRestartTests"/> shows the whole recovery.
/// </summary>
public sealed class LiveFeedRecoveryTests
{
    public LiveFeedRecoveryTests() => new ServiceCollection().AddLedgerStore();

    [Fact]
    public void A_cancelled_event_load_is_a_failure_the_live_feed_recovers_from()
    {
        var failure = ShardFailure.For(new InvalidOperationException("the event load failed", new TaskCanceledException()), DateTimeOffset.UnixEpoch);

        Assert.True(failure.IsTransient);
    }

    [Fact]
    public void A_failure_that_would_recur_on_the_same_event_still_stops_the_live_feed()
    {
        var failure = ShardFailure.For(new InvalidOperationException("an event the feed cannot read"), DateTimeOffset.UnixEpoch);

        Assert.False(failure.IsTransient);
    }
}
