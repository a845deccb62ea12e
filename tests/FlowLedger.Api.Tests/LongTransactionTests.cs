using FlowLedger.Api.Tests.Fixtures;
using FlowLedger.Domain;
using Marten;
using Marten.Services;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Npgsql;
using static FlowLedger.Api.Tests.Fixtures.LedgerClient;

namespace FlowLedger.Api.Tests;

/// <summary>
/// A transaction that holds its event sequences for longer than the async daemon waits on a gap (a large import) must
/// not cost the live feed its events: once it commits, subscribers get them, after the later ones committed meanwhile.
/// </summary>
public sealed class LongTransactionTests(AppFixture app) : IClassFixture<AppFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly LedgerClient _api = LedgerClient.For(app);

    [Fact]
    public async Task Events_of_a_transaction_held_open_past_the_daemons_gap_wait_still_reach_subscribers()
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        await using var subscriber = await SseClient.ConnectAsync(app.CreateClient(Security.Role.Reader), "events");

        var store = app.Host.Services.GetRequiredService<IDocumentStore>();
        await using var connection = new NpgsqlConnection(app.ConnectionString);
        await connection.OpenAsync(Ct);
        await using var transaction = await connection.BeginTransactionAsync(Ct);
        await using (var slow = store.LightweightSession(SessionOptions.ForTransaction(transaction)))
        {
            slow.Events.StartStream(deal, new ServicesPaid(a, b, new Money(1m, "USD"), "held open", new LocalDate(2025, 5, 1)));
            await slow.SaveChangesAsync(Ct);
        }
        var later = await _api.RecordAsync(Ids.New("later"), new { type = "ServicesPaid", payer = a, payee = b, amount = Usd(2), description = "later", effectiveOn = "2025-05-02" });
        // Longer than the daemon waits before it gives a gap up for a rolled-back transaction.
        await Task.Delay(TimeSpan.FromSeconds(20), Ct);
        await transaction.CommitAsync(Ct);

        var held = (await _api.EventsAsync(deal)).Single()!;
        var first = await subscriber.EventOfSequenceAsync(held["sequence"]!.GetValue<long>());
        var second = await subscriber.EventOfSequenceAsync(later["sequence"]!.GetValue<long>());
        Assert.Equal(["held open", "later"], new[] { first, second }.Select(m => m.Data["data"]!["description"]!.GetValue<string>()));
    }
}
