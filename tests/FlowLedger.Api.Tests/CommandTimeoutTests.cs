using System.Net;
using System.Text.Json;
using FlowLedger.Api.Tests.Fixtures;
using Npgsql;

namespace FlowLedger.Api.Tests;

/// <summary>
/// A single command is bounded by the connection string's statement timeout. When its read or its append waits past
/// it, the client is told to retry, with nothing written: a 503 with Retry-After, not a 500 that reads as a bug.
/// </summary>
public sealed class CommandTimeoutTests(ShortStatementTimeoutAppFixture app) : IClassFixture<ShortStatementTimeoutAppFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly LedgerClient _api = LedgerClient.For(app);

    /// <param name="lockMode">SHARE holds up the command's append only; ACCESS EXCLUSIVE every statement on the events, reads included.</param>
    [Theory]
    [InlineData("share")]
    [InlineData("access exclusive")]
    public async Task A_command_held_past_the_statement_timeout_is_a_503_to_retry_and_writes_nothing(string lockMode)
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        // A second payment on a deal with one before it, with its version: the recorder reads the deal unless it knows it.
        await _api.RecordAsync(deal, Payment(a, b, 1));

        ApiAnswer answer;
        await using (var connection = new NpgsqlConnection(app.ConnectionString))
        {
            await connection.OpenAsync(Ct);
            await using var holding = await connection.BeginTransactionAsync(Ct);
            await using (var hold = new NpgsqlCommand($"lock table flowledger.mt_events in {lockMode} mode", connection, holding))
            {
                await hold.ExecuteNonQueryAsync(Ct);
            }
            answer = await _api.PostRawAsync($"/api/deals/{deal}/events", JsonSerializer.Serialize(Payment(a, b, 2)));
            await holding.RollbackAsync(Ct);
        }

        Assert.True(answer.Status == HttpStatusCode.ServiceUnavailable, $"Expected 503, got {(int)answer.Status}: {answer.Body}");
        Assert.Equal("1", answer.Response.Headers.RetryAfter?.ToString());
        Assert.Single(await _api.EventsAsync(deal));
    }

    private static object Payment(string payer, string payee, decimal amount) => new
    {
        type = "ServicesPaid", payer, payee, amount = new { amount, currency = "USD" }, description = $"payment {amount}", effectiveOn = "2025-06-01",
    };
}
