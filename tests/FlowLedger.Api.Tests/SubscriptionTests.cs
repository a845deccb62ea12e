using System.Net;
using System.Text.Json.Nodes;
using FlowLedger.Api.Security;
using FlowLedger.Api.Tests.Fixtures;
using static FlowLedger.Api.Tests.Fixtures.LedgerClient;

namespace FlowLedger.Api.Tests;

/// <summary>SPEC §8 server-sent events: what a subscriber receives live, and after a reconnect.</summary>
public sealed class SubscriptionTests(AppFixture app) : IClassFixture<AppFixture>
{
    private readonly LedgerClient _api = LedgerClient.For(app);

    private Task<SseClient> SubscribeAsync(string topics, string? lastEventId = null) =>
        SseClient.ConnectAsync(app.CreateClient(Role.Reader), topics, lastEventId);

    private static object Payment(string payer, string payee, decimal amount, string day = "2025-03-01") =>
        new { type = "ServicesPaid", payer, payee, amount = Usd(amount), description = "compute", effectiveOn = day };

    [Fact]
    public async Task A_recorded_event_reaches_its_topics_with_the_new_state()
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        await using var stream = await SubscribeAsync($"events,company:{a},deal:{deal}");
        Assert.Equal("text/event-stream", stream.Response.Content.Headers.ContentType?.MediaType);

        var recorded = await _api.RecordAsync(deal, Payment(a, b, 25));
        var sequence = recorded["sequence"]!.GetValue<long>();

        var eventMessage = await stream.EventOfSequenceAsync(sequence);
        Assert.Equal(recorded["eventId"]!.GetValue<string>(), eventMessage.Data["eventId"]!.GetValue<string>());
        Assert.Equal("ServicesPaid", eventMessage.Data["type"]!.GetValue<string>());

        var dealMessage = await stream.NextAsync(ct: TestContext.Current.CancellationToken);
        Assert.Equal("deal", dealMessage!.Kind);
        Assert.Equal(deal, dealMessage.Data["dealId"]!.GetValue<string>());
        Assert.Equal(1, dealMessage.Data["version"]!.GetValue<long>());

        var balanceMessage = await stream.NextAsync(ct: TestContext.Current.CancellationToken);
        Assert.Equal("balance", balanceMessage!.Kind);
        // The last message an event caused carries its sequence as the id.
        Assert.Equal(sequence.ToString(), balanceMessage.Id);
        var knownAt = recorded["recordedAt"]!.GetValue<string>();
        var balance = await _api.GetAsync($"/api/companies/{a}/balance?knownAt={knownAt}");
        Assert.True(JsonNode.DeepEquals(balance.Json, balanceMessage.Data), $"pushed {balanceMessage.Data} but the API answers {balance.Json}");
        Assert.Equal(-25m, balanceMessage.Data["cash"]!["USD"]!["net"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task A_reconnect_with_Last_Event_ID_delivers_each_missed_update_once_in_order_then_live_ones()
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        var first = await SubscribeAsync("events");
        var seen = await _api.RecordAsync(deal, Payment(a, b, 1));
        await first.EventOfSequenceAsync(seen["sequence"]!.GetValue<long>());
        var lastEventId = first.LastEventId!;
        await first.DisposeAsync();

        var missed = new List<long>();
        for (var i = 2; i <= 6; i++)
        {
            missed.Add((await _api.RecordAsync(deal, Payment(a, b, i)))["sequence"]!.GetValue<long>());
        }

        await using var again = await SubscribeAsync("events", lastEventId);
        var replayed = new List<long>();
        for (var i = 0; i < missed.Count; i++)
        {
            var message = await again.NextAsync(ct: TestContext.Current.CancellationToken);
            Assert.Equal("event", message!.Kind);
            replayed.Add(message.Data["sequence"]!.GetValue<long>());
        }
        Assert.Equal(missed, replayed);

        var live = await _api.RecordAsync(deal, Payment(a, b, 7));
        var next = await again.NextAsync(ct: TestContext.Current.CancellationToken);
        Assert.Equal(live["sequence"]!.GetValue<long>(), next!.Data["sequence"]!.GetValue<long>());
        Assert.Equal(live["sequence"]!.GetValue<long>().ToString(), again.LastEventId);
    }

    [Fact]
    public async Task The_loops_topic_pushes_the_loops_of_both_layers_as_known_then()
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        await using var stream = await SubscribeAsync("loops");
        await _api.RecordAsync(deal, Payment(a, b, 10, "2025-03-01"));
        var back = await _api.RecordAsync(deal, Payment(b, a, 4, "2025-04-01"));

        // Pages may coalesce the two events into one update; the last one shows the loop closed.
        SseMessage message;
        do
        {
            message = await stream.NextOfKindAsync("loops");
        }
        while (message.Id != back["sequence"]!.GetValue<long>().ToString());

        var loops = await _api.GetAsync($"/api/loops?knownAt={back["recordedAt"]!.GetValue<string>()}");
        Assert.True(JsonNode.DeepEquals(loops.Json, message.Data["cash"]), $"pushed {message.Data["cash"]} but the API answers {loops.Json}");
        var loop = Assert.Single(message.Data["cash"]!["loops"]!.AsArray(), l => l!["path"]!.AsArray().Count == 3 && l["path"]!.ToJsonString().Contains(a));
        Assert.Equal(4m, loop!["temporalFlow"]!.GetValue<decimal>());
    }

    [Theory]
    [InlineData("")]
    [InlineData("everything")]
    [InlineData("company:")]
    [InlineData("company:Not A Slug")]
    [InlineData("events,deal")]
    public async Task Unknown_or_malformed_topics_are_a_400(string topics)
    {
        var answer = await _api.GetAsync($"/api/subscriptions/stream?topics={Uri.EscapeDataString(topics)}");
        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Contains("topic", answer.Detail);
    }

    [Fact]
    public async Task A_Last_Event_ID_that_is_not_a_sequence_is_a_400()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/subscriptions/stream?topics=events");
        request.Headers.Add("Last-Event-ID", "yesterday");
        using var response = await app.CreateClient(Role.Reader).SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
