using System.Net;
using FlowLedger.Api.Tests.Fixtures;
using static FlowLedger.Api.Tests.Fixtures.LedgerClient;

namespace FlowLedger.Api.Tests;

/// <summary>A delivery owed when the app stops is made by the app that starts next on the same database.</summary>
public sealed class WebhookRestartTests(PostgresServer server)
{
    [Fact]
    public async Task A_delivery_pending_across_a_restart_is_made_after_it()
    {
        var database = await server.CreateDatabaseAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Refusing = true;

        long sequence;
        var first = new ExistingDatabaseAppFixture(server, database);
        await first.InitializeAsync();
        await using (first)
        {
            var api = LedgerClient.For(first);
            var (a, b, deal) = await api.NewPartiesAsync();
            var added = await api.PostAsync("/api/webhooks", new { url = receiver.Url, topics = "events", secret = "s" });
            Assert.Equal(HttpStatusCode.Created, added.Status);
            var recorded = await api.RecordAsync(deal, new
            {
                type = "ServicesPaid", payer = a, payee = b, amount = Usd(9), description = "compute", effectiveOn = "2025-03-01",
            });
            sequence = recorded["sequence"]!.GetValue<long>();
            await receiver.WaitForAttemptAsync();
        }

        var refusedWhileUp = receiver.Attempts;
        receiver.Refusing = false;
        Assert.Empty(receiver.Accepted);

        await using var second = new ExistingDatabaseAppFixture(server, database);
        await second.InitializeAsync();
        var delivered = await receiver.WaitForAsync(d => d.Any(x => x.SequenceHeader == sequence), "the update owed before the restart");
        Assert.Equal(sequence, Assert.Single(delivered, d => d.SequenceHeader == sequence).Json["data"]!["sequence"]!.GetValue<long>());
        Assert.True(receiver.Attempts > refusedWhileUp);
    }
}
