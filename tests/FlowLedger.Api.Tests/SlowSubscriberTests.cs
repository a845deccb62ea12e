using FlowLedger.Api.Security;
using FlowLedger.Api.Tests.Fixtures;
using Microsoft.AspNetCore.Hosting;
using static FlowLedger.Api.Tests.Fixtures.LedgerClient;

namespace FlowLedger.Api.Tests;

/// <summary>An app whose subscribers may fall only two pages behind before they are cut off.</summary>
public sealed class ShortQueueAppFixture(PostgresServer server) : AppFixture(server)
{
    protected override void Configure(IWebHostBuilder builder) => builder.UseSetting("FlowLedger:Subscriptions:QueuedPages", "2");
}

/// <summary>A subscriber that stops reading holds up no one: it is cut off, and catches up when it reconnects.</summary>
public sealed class SlowSubscriberTests(ShortQueueAppFixture app) : IClassFixture<ShortQueueAppFixture>
{
    private const int Events = 300;

    private readonly LedgerClient _api = LedgerClient.For(app);

    [Fact]
    public async Task A_stalled_subscriber_is_cut_off_while_writers_and_other_subscribers_go_on_and_it_loses_nothing_on_reconnect()
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        await using var stalled = await SseClient.ConnectAsync(app.CreateClient(Role.Reader), "events");
        await using var reading = await SseClient.ConnectAsync(app.CreateClient(Role.Reader), "events");

        // Another subscriber keeps reading, and gets each event before the next is written, so each travels in
        // a page of its own and the stalled subscriber, reading nothing, has more pages queued than it may hold.
        var recorded = new List<long>();
        for (var i = 1; i <= Events; i++)
        {
            var answer = await _api.RecordAsync(deal, new
            {
                type = "ServicesPaid", payer = a, payee = b, amount = Usd(i), description = new string('x', 400), effectiveOn = "2025-03-01",
            });
            recorded.Add(answer["sequence"]!.GetValue<long>());
            await reading.EventOfSequenceAsync(recorded[^1]);
        }

        // The stalled subscriber finds a prefix of the events, in order, then the notice that it was cut off.
        var before = new List<long>();
        while (await stalled.NextAsync(ct: TestContext.Current.CancellationToken) is { } message)
        {
            before.Add(message.Data["sequence"]!.GetValue<long>());
        }
        Assert.Contains(stalled.Comments, comment => comment.StartsWith("overflow", StringComparison.Ordinal));
        var delivered = before.Where(recorded.Contains).ToList();
        Assert.True(delivered.Count < Events, $"the stalled subscriber was never cut off ({delivered.Count} events delivered)");
        Assert.Equal(recorded.Take(delivered.Count), delivered);

        // Reconnecting from the last id it saw, it gets the rest exactly once, in order.
        await using var resumed = await SseClient.ConnectAsync(app.CreateClient(Role.Reader), "events", stalled.LastEventId);
        var rest = new List<long>();
        while (rest.Count < Events - delivered.Count && await resumed.NextAsync(ct: TestContext.Current.CancellationToken) is { } message)
        {
            rest.Add(message.Data["sequence"]!.GetValue<long>());
        }
        Assert.Equal(recorded.Skip(delivered.Count), rest);
    }
}
