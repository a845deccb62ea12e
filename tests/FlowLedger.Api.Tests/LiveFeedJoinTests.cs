using System.Text;
using FlowLedger.Api.Live;
using FlowLedger.Api.Tests.Fixtures;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using static FlowLedger.Api.Tests.Fixtures.LedgerClient;

namespace FlowLedger.Api.Tests;

/// <summary>
/// A <see cref="FeedAdvanced"/> that reaches a node while a subscriber is joining finds the feed's gate held and leaves
/// the delivery to the join: the subscriber must still get those events once it has joined, not wait for the next one.
/// </summary>
public sealed class LiveFeedJoinTests(AppFixture app) : IClassFixture<AppFixture>
{
    private readonly LedgerClient _api = LedgerClient.For(app);

    private static object Payment(string payer, string payee, decimal amount) =>
        new { type = "ServicesPaid", payer, payee, amount = Usd(amount), description = $"payment {amount}", effectiveOn = "2025-03-01" };

    [Fact]
    public async Task An_announcement_during_a_join_is_delivered_to_the_subscriber_when_the_join_is_done()
    {
        var ct = TestContext.Current.CancellationToken;
        var (a, b, deal) = await _api.NewPartiesAsync();
        var setup = (await _api.RecordAsync(deal, Payment(a, b, 1)))["sequence"]!.GetValue<long>();
        await Sql.WaitUntilAsync(app.ConnectionString, $"select coalesce(max(last_seq_id), 0) >= {setup} from flowledger.mt_event_progression where name like 'live-feed:%'");

        // Holding the subscription's progress row keeps a new node's first join inside the gate, reading where the feed stands.
        await using var blocker = new NpgsqlConnection(app.ConnectionString);
        await blocker.OpenAsync(ct);
        await using var holding = await blocker.BeginTransactionAsync(ct);
        await using (var lockTable = new NpgsqlCommand("lock table flowledger.mt_event_progression in access exclusive mode", blocker, holding))
        {
            await lockTable.ExecuteNonQueryAsync(ct);
        }
        var first = await _api.RecordAsync(deal, Payment(a, b, 2));
        var second = await _api.RecordAsync(deal, Payment(a, b, 3));

        var feed = new LiveFeed(app.Host.Services.GetRequiredService<IDocumentStore>(), NullLogger<LiveFeed>.Instance);
        var subscriber = new LiveSubscriber(TopicSet.Parse(["events"]), new SubscriberQueueLimits(100, 1 << 20));
        var joining = feed.JoinAsync(subscriber, ct);
        await Sql.WaitUntilAsync(app.ConnectionString, "select exists (select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query like 'select coalesce(max(last_seq_id), 0)%')");

        await feed.AdvanceAsync(second["sequence"]!.GetValue<long>(), ct);
        Assert.False(joining.IsCompleted);
        Assert.False(subscriber.TryTake(out _), "nothing can be delivered while the join holds the gate");

        await holding.RollbackAsync(ct);
        var liveAfter = await joining;
        Assert.InRange(liveAfter, setup, first["sequence"]!.GetValue<long>() - 1);
        var delivered = new StringBuilder();
        while (subscriber.TryTake(out var page))
        {
            delivered.Append(Encoding.UTF8.GetString(page));
        }
        var text = delivered.ToString();
        var (firstAt, secondAt) = (text.IndexOf(first["eventId"]!.GetValue<string>(), StringComparison.Ordinal), text.IndexOf(second["eventId"]!.GetValue<string>(), StringComparison.Ordinal));
        Assert.True(firstAt >= 0 && secondAt > firstAt, $"both events, in order, after the join; got:\n{text}");
    }
}
