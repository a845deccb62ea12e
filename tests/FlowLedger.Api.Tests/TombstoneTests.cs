using System.Net;
using FlowLedger.Api.Ledger;
using FlowLedger.Api.Tests.Fixtures;
using FlowLedger.Domain;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using static FlowLedger.Api.Tests.Fixtures.LedgerClient;

namespace FlowLedger.Api.Tests;

/// <summary>
/// When a transaction fails after its events drew their sequences (a duplicate idempotency key, a
/// connection cut by a database restart), Marten fills those sequences with tombstone events on a
/// stream of their own. They carry no ledger fact: every reader of the store passes over them.
/// </summary>
public sealed class TombstoneTests(AppFixture app) : IClassFixture<AppFixture>
{
    private readonly LedgerClient _api = LedgerClient.For(app);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Events_replay_balances_subscriptions_and_the_audit_chain_pass_over_tombstones()
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        await using var listening = await SseClient.ConnectAsync(app.CreateClient(Security.Role.Reader), "events");
        await _api.PostAsync($"/api/deals/{deal}/events",
            new { type = "ServicesPaid", payer = a, payee = b, amount = Usd(5), description = "kept", effectiveOn = "2025-03-01" }, idempotencyKey: $"{deal}-kept");
        await LeaveTombstoneAsync($"{deal}-kept", a, b);
        var after = await _api.RecordAsync(deal, new { type = "ServicesPaid", payer = a, payee = b, amount = Usd(7), description = "after", effectiveOn = "2025-03-02" });

        var events = await _api.EventsAsync();
        Assert.DoesNotContain(events, e => e!["type"]!.GetValue<string>() == "tombstone");
        Assert.Equal(["kept", "after"], events
            .Where(e => e!["dealId"]?.GetValue<string>() == deal)
            .Select(e => e!["data"]!["description"]!.GetValue<string>()));

        var replay = await _api.GetAsync("/api/replay?from=2025-01-01");
        Assert.Equal(HttpStatusCode.OK, replay.Status);
        var balance = await _api.GetAsync($"/api/companies/{b}/balance");
        Assert.Equal(12m, balance.Json["cash"]!["USD"]!["in"]!.GetValue<decimal>());

        // The live feed goes on past the tombstone, and a stream replayed from the start does not stumble on it either.
        Assert.Equal("after", (await listening.EventOfSequenceAsync(after["sequence"]!.GetValue<long>())).Data["data"]!["description"]!.GetValue<string>());
        await using var subscriber = await SseClient.ConnectAsync(app.CreateClient(Security.Role.Reader), "events", lastEventId: "0");
        var last = await subscriber.EventOfSequenceAsync(after["sequence"]!.GetValue<long>());
        Assert.Equal("after", last.Data["data"]!["description"]!.GetValue<string>());

        var store = app.Host.Services.GetRequiredService<IDocumentStore>();
        await ProjectionCheck.AssertMatchesFoldAsync(store, [a, b], [new PointInTime(null, app.Clock.GetCurrentInstant())]);
        var verified = await _api.GetAsync("/api/audit/verify");
        Assert.True(verified.Json["ok"]!.GetValue<bool>(), verified.Json.ToJsonString());
    }

    /// <summary>
    /// Appends a payment in a transaction that then fails on an idempotency key already taken, as a
    /// client's retry racing its first attempt does, and waits for Marten to tombstone its sequence.
    /// </summary>
    private async Task LeaveTombstoneAsync(string takenIdempotencyKey, string payer, string payee)
    {
        var store = app.Host.Services.GetRequiredService<IDocumentStore>();
        var tombstonesBefore = await CountTombstonesAsync();
        await using (var session = store.LightweightSession())
        {
            session.Events.StartStream(Ids.New("doomed"),
                new ServicesPaid(payer, payee, new Money(1m, "USD"), "never recorded", new LocalDate(2025, 3, 1)));
            session.Insert(new IdempotencyRecord(takenIdempotencyKey, "another request", Guid.NewGuid()));
            await Assert.ThrowsAnyAsync<Exception>(() => session.SaveChangesAsync(Ct));
        }
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (await CountTombstonesAsync() == tombstonesBefore)
        {
            Assert.True(DateTime.UtcNow < deadline, "Marten wrote no tombstone for the failed append.");
            await Task.Delay(50, Ct);
        }
    }

    private Task<long> CountTombstonesAsync() =>
        Sql.ScalarAsync<long>(app.ConnectionString, $"select count(*) from flowledger.mt_events where stream_id = '{JasperFx.Events.Tombstone.StreamKey}'");
}
