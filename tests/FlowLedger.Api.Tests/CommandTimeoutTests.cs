using System.Net;
using System.Text.Json;
using FlowLedger.Api.Tests.Fixtures;
using Npgsql;
using static FlowLedger.Api.Tests.Fixtures.LedgerClient;

namespace FlowLedger.Api.Tests;

/// <summary>
/// A single command is bounded by the connection string's statement timeout. When its read or its append waits past
/// it, the client is told to retry, with nothing written: a 503 with Retry-After, not a 500 that reads as a bug.
/// </summary>
public sealed class CommandTimeoutTests(ShortStatementTimeoutAppFixture app) : IClassFixture<ShortStatementTimeoutAppFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly LedgerClient _api = LedgerClient.For(app);

    [Fact]
    public async Task A_command_whose_append_waits_past_the_statement_timeout_is_a_503_to_retry_and_writes_nothing()
    {
        var (a, b, deal) = await DealWithOnePaymentAsync();

        // SHARE lets every read go on and holds up every insert into the events.
        var answer = await PostWhileEventsLockedAsync("share", deal, Payment(a, b, 2, expectedVersion: 1));

        AssertRetryLater(answer);
        Assert.Single(await _api.EventsAsync(deal));
    }

    [Fact]
    public async Task A_command_whose_read_waits_past_the_statement_timeout_is_a_503_to_retry_and_writes_nothing()
    {
        var (a, b, deal) = await DealWithOnePaymentAsync();
        // A stale version: the node's guess would refuse it, and no refusal is made on a guess, so the command reads the
        // deal first; ACCESS EXCLUSIVE holds up that read.
        var stale = Payment(a, b, 2, expectedVersion: 0);

        var answer = await PostWhileEventsLockedAsync("access exclusive", deal, stale);

        AssertRetryLater(answer);
        Assert.Single(await _api.EventsAsync(deal));
        // Once the events are free, the same command is read and refused, so it was the read that waited.
        Assert.Equal(HttpStatusCode.Conflict, (await _api.PostRawAsync($"/api/deals/{deal}/events", JsonSerializer.Serialize(stale))).Status);
    }

    private async Task<(string A, string B, string Deal)> DealWithOnePaymentAsync()
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        await _api.RecordAsync(deal, Payment(a, b, 1));
        return (a, b, deal);
    }

    private async Task<ApiAnswer> PostWhileEventsLockedAsync(string lockMode, string deal, object command)
    {
        await using var connection = new NpgsqlConnection(app.ConnectionString);
        await connection.OpenAsync(Ct);
        await using var holding = await connection.BeginTransactionAsync(Ct);
        await using (var hold = new NpgsqlCommand($"lock table flowledger.mt_events in {lockMode} mode", connection, holding))
        {
            await hold.ExecuteNonQueryAsync(Ct);
        }
        var answer = await _api.PostRawAsync($"/api/deals/{deal}/events", JsonSerializer.Serialize(command));
        await holding.RollbackAsync(Ct);
        return answer;
    }

    private static void AssertRetryLater(ApiAnswer answer)
    {
        Assert.True(answer.Status == HttpStatusCode.ServiceUnavailable, $"Expected 503, got {(int)answer.Status}: {answer.Body}");
        Assert.Equal("1", answer.Response.Headers.RetryAfter?.ToString());
    }

    private static object Payment(string payer, string payee, decimal amount, long? expectedVersion = null) =>
        new { type = "ServicesPaid", payer, payee, amount = Usd(amount), description = $"payment {amount}", effectiveOn = "2025-06-01", expectedVersion };
}
