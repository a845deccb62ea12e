using System.Net;
using System.Security.Cryptography;
using System.Text;
using FlowLedger.Api.Tests.Fixtures;
using static FlowLedger.Api.Tests.Fixtures.LedgerClient;

namespace FlowLedger.Api.Tests;

/// <summary>SPEC §8 webhooks: registered, signed, retried with back-off, at least once.</summary>
public sealed class WebhookTests(AppFixture app) : IClassFixture<AppFixture>
{
    private const string Secret = "a shared secret";

    private readonly LedgerClient _api = LedgerClient.For(app);

    private static object Payment(string payer, string payee, decimal amount) =>
        new { type = "ServicesPaid", payer, payee, amount = Usd(amount), description = "compute", effectiveOn = "2025-03-01" };

    private async Task<string> AddWebhookAsync(string url, string topics)
    {
        var answer = await _api.PostAsync("/api/webhooks", new { url, topics, secret = Secret });
        Assert.True(answer.Status == HttpStatusCode.Created, $"{answer.Status}: {answer.Body}");
        return answer.Json["id"]!.GetValue<string>();
    }

    public static string SignatureOf(byte[] body, string secret) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    [Fact]
    public async Task Webhooks_are_added_listed_without_their_secret_and_deleted()
    {
        var id = await AddWebhookAsync("http://127.0.0.1:9/hook", "events,loops");

        var listed = await _api.GetAsync("/api/webhooks");
        var mine = Assert.Single(listed.Json.AsArray(), w => w!["id"]!.GetValue<string>() == id)!;
        Assert.Equal("http://127.0.0.1:9/hook", mine["url"]!.GetValue<string>());
        Assert.Equal(["events", "loops"], mine["topics"]!.AsArray().Select(t => t!.GetValue<string>()).Order());
        Assert.Null(mine["secret"]);
        Assert.DoesNotContain(Secret, listed.Json.ToJsonString());

        Assert.Equal(HttpStatusCode.NoContent, (await _api.SendAsync(HttpMethod.Delete, $"/api/webhooks/{id}")).Status);
        Assert.DoesNotContain(id, (await _api.GetAsync("/api/webhooks")).Json.ToJsonString());
        Assert.Equal(HttpStatusCode.NotFound, (await _api.SendAsync(HttpMethod.Delete, $"/api/webhooks/{id}")).Status);
    }

    [Theory]
    [InlineData("""{"topics": "events", "secret": "s"}""", "url")]
    [InlineData("""{"url": "ftp://example.org/x", "topics": "events", "secret": "s"}""", "url")]
    [InlineData("""{"url": "not a url", "topics": "events", "secret": "s"}""", "url")]
    [InlineData("""{"url": "http://127.0.0.1:9/hook", "topics": "everything", "secret": "s"}""", "topic")]
    [InlineData("""{"url": "http://127.0.0.1:9/hook", "topics": "events"}""", "secret")]
    [InlineData("""{"url": "http://127.0.0.1:9/hook", "topics": [1], "secret": "s"}""", "topics")]
    public async Task A_webhook_without_a_valid_url_topics_or_secret_is_a_400(string body, string named)
    {
        var answer = await _api.PostRawAsync("/api/webhooks", body);
        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Contains(named, answer.Detail);
    }

    [Fact]
    public async Task Each_update_of_the_topics_is_posted_signed_with_its_sequence()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var (a, b, deal) = await _api.NewPartiesAsync();
        await AddWebhookAsync(receiver.Url, $"events,company:{a}");

        var recorded = await _api.RecordAsync(deal, Payment(a, b, 12));
        var sequence = recorded["sequence"]!.GetValue<long>();

        var deliveries = await receiver.WaitForAsync(d => d.Count(x => x.SequenceHeader == sequence) == 2, "the event and the balance");
        foreach (var delivery in deliveries)
        {
            Assert.Equal(SignatureOf(delivery.Body, Secret), delivery.Signature);
            Assert.Equal(delivery.SequenceHeader, delivery.Json["sequence"]!.GetValue<long>());
            Assert.Equal(delivery.EventHeader, delivery.Json["kind"]!.GetValue<string>());
        }
        var ofEvent = deliveries.Where(d => d.SequenceHeader == sequence).ToList();
        var eventDelivery = Assert.Single(ofEvent, d => d.EventHeader == "event");
        Assert.Equal(recorded["eventId"]!.GetValue<string>(), eventDelivery.Json["data"]!["eventId"]!.GetValue<string>());
        Assert.Equal("events", eventDelivery.Json["topic"]!.GetValue<string>());
        var balanceDelivery = Assert.Single(ofEvent, d => d.EventHeader == "balance");
        Assert.Equal($"company:{a}", balanceDelivery.Json["topic"]!.GetValue<string>());
        Assert.Equal(-12m, balanceDelivery.Json["data"]!["cash"]!["USD"]!["net"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task A_receiver_that_fails_at_first_gets_the_update_on_a_later_attempt()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.RefuseFirst = 2;
        var (a, b, deal) = await _api.NewPartiesAsync();
        await AddWebhookAsync(receiver.Url, $"deal:{deal}");

        var recorded = await _api.RecordAsync(deal, Payment(a, b, 3));

        var sequence = recorded["sequence"]!.GetValue<long>();
        var delivered = await receiver.WaitForAsync(d => d.Any(x => x.SequenceHeader == sequence), "the deal's update");
        Assert.Equal("deal", Assert.Single(delivered).EventHeader);
        Assert.True(receiver.Attempts >= 3, $"{receiver.Attempts} attempts");
    }
}
