using System.Net;
using FlowLedger.Api.Tests.Fixtures;
using Marten.Events.Daemon.HighWater;
using Npgsql;
using static FlowLedger.Api.Tests.Fixtures.LedgerClient;

namespace FlowLedger.Api.Tests;

/// <summary>
/// The daemon is woken by a NOTIFY that the recorder sends after a commit that appended events, and by nothing else
/// the write path does: a refused command commits nothing, so it wakes no one.
/// </summary>
public sealed class EventAppendNotifierTests(AppFixture app) : IClassFixture<AppFixture>
{
    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_committed_event_notifies_the_daemon_s_channel_and_a_refused_command_does_not()
    {
        var api = LedgerClient.For(app);
        var (a, b, deal) = await api.NewPartiesAsync();
        await using var listener = await ListenAsync();
        // The registrations above were announced too; let their NOTIFY go by.
        await WaitForNotificationsAsync(listener, Quiet);

        var refused = await api.PostAsync($"/api/deals/{deal}/events", new { type = "ServicesPaid", payer = a, payee = b, amount = Usd(-5) });
        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Equal(0, await WaitForNotificationsAsync(listener, Quiet));

        await api.RecordAsync(deal, new { type = "ServicesPaid", payer = a, payee = b, amount = Usd(5), description = "compute", effectiveOn = "2025-03-01" });
        Assert.True(await WaitForNotificationsAsync(listener, Patience, stopAtFirst: true) > 0, "The commit should have woken the daemon.");
    }

    private async Task<NpgsqlConnection> ListenAsync()
    {
        var connection = new NpgsqlConnection(app.ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var listen = new NpgsqlCommand($"listen {PostgresqlListenWakeup.DefaultChannel}", connection);
        await listen.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        return connection;
    }

    /// <summary>How many notifications arrive on the channel within <paramref name="window"/>.</summary>
    private static async Task<int> WaitForNotificationsAsync(NpgsqlConnection listener, TimeSpan window, bool stopAtFirst = false)
    {
        var count = 0;
        void Count(object sender, NpgsqlNotificationEventArgs e) => count += e.Channel == PostgresqlListenWakeup.DefaultChannel ? 1 : 0;
        listener.Notification += Count;
        try
        {
            var deadline = DateTime.UtcNow + window;
            while (deadline - DateTime.UtcNow is { Ticks: > 0 } left && !(stopAtFirst && count > 0))
            {
                // Npgsql waits without end on a timeout of 0 ms, which a remainder under a millisecond would round to.
                await listener.WaitAsync(Math.Max(1, (int)Math.Ceiling(left.TotalMilliseconds)), TestContext.Current.CancellationToken);
            }
        }
        finally
        {
            listener.Notification -= Count;
        }
        return count;
    }
}
