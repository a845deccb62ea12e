using System.Net;
using FlowLedger.Api.Tests.Fixtures;
using static FlowLedger.Api.Tests.Fixtures.LedgerClient;

namespace FlowLedger.Api.Tests;

/// <summary>
/// SPEC §8 and §11 with two app processes on one database: a subscriber on either node gets every update,
/// whichever node recorded the event, and the live-feed subscription runs once, not once per node.
/// </summary>
public sealed class MultiNodeTests(PostgresServer server)
{
    [Fact]
    public async Task A_node_answers_only_once_the_live_feed_runs_and_a_node_joining_later_leaves_it_where_it_runs()
    {
        var database = await server.CreateDatabaseAsync();
        var environment = new Dictionary<string, string?> { ["ConnectionStrings__Marten"] = database, ["FlowLedger__LoadDemo"] = "false" };

        await using var nodeA = await AppProcess.StartAsync(environment, TestContext.Current.CancellationToken);
        Assert.Equal(1, await LiveFeedAssignmentsAsync(database));

        await using var nodeB = await AppProcess.StartAsync(environment, TestContext.Current.CancellationToken);
        Assert.Equal(1, await LiveFeedAssignmentsAsync(database));
    }

    /// <summary>How many nodes Wolverine's table says run the live feed (its agents are named <c>…/live-feed/all</c>).</summary>
    private static async Task<long> LiveFeedAssignmentsAsync(string database)
    {
        var schema = await Sql.ScalarAsync<string>(database, "select schemaname from pg_tables where tablename = 'wolverine_node_assignments'");
        return await Sql.ScalarAsync<long>(database, $"select count(*) from {schema}.wolverine_node_assignments where id like '%/live-feed/all'");
    }

    [Fact]
    public async Task A_subscriber_on_node_B_gets_what_node_A_records_and_each_update_is_delivered_once()
    {
        var environment = new Dictionary<string, string?>
        {
            ["ConnectionStrings__Marten"] = await server.CreateDatabaseAsync(),
            ["FlowLedger__LoadDemo"] = "false",
        };
        await using var nodeA = await AppProcess.StartAsync(environment, TestContext.Current.CancellationToken);
        await using var nodeB = await AppProcess.StartAsync(environment, TestContext.Current.CancellationToken);
        await using var receiver = await WebhookReceiver.StartAsync();

        // Bound to loopback with no key configured, both nodes run open: no key to send.
        var onA = new LedgerClient(nodeA.Http, _ => null);
        var (a, b, deal) = await onA.NewPartiesAsync();
        Assert.Equal(HttpStatusCode.Created, (await onA.PostAsync("/api/webhooks", new { url = receiver.Url, topics = "events", secret = "s" })).Status);
        await using var onB = await SseClient.ConnectAsync(nodeB.Http, $"events,company:{a}");

        var recorded = await onA.RecordAsync(deal, new
        {
            type = "ServicesPaid", payer = a, payee = b, amount = Usd(5), description = "compute", effectiveOn = "2025-03-01",
        });
        var sequence = recorded["sequence"]!.GetValue<long>();

        var pushed = await onB.EventOfSequenceAsync(sequence);
        Assert.Equal(recorded["eventId"]!.GetValue<string>(), pushed.Data["eventId"]!.GetValue<string>());
        var balance = await onB.NextAsync(ct: TestContext.Current.CancellationToken);
        Assert.Equal("balance", balance!.Kind);
        Assert.Equal(-5m, balance.Data["cash"]!["USD"]!["net"]!.GetValue<decimal>());

        // Had both nodes run the subscription, the webhook would hear of the event twice.
        await receiver.WaitForAsync(d => d.Any(x => x.SequenceHeader == sequence), "the event");
        await Task.Delay(TimeSpan.FromSeconds(3), TestContext.Current.CancellationToken);
        Assert.Single(receiver.Accepted, d => d.SequenceHeader == sequence);
        Assert.Equal(receiver.Accepted.Count, receiver.Accepted.Select(d => d.SequenceHeader).Distinct().Count());
    }
}
