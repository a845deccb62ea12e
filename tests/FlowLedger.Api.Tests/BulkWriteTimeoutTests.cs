using System.Net;
using System.Text;
using System.Text.Json;
using FlowLedger.Api.Ledger;
using FlowLedger.Api.Security;
using FlowLedger.Api.Tests.Fixtures;
using Npgsql;

namespace FlowLedger.Api.Tests;

/// <summary>The app on a connection string whose statements time out after <see cref="Seconds"/>.</summary>
public sealed class ShortStatementTimeoutAppFixture(PostgresServer server) : AppFixture(server)
{
    public const int Seconds = 3;

    protected override async Task<string> DatabaseAsync() =>
        new NpgsqlConnectionStringBuilder(await base.DatabaseAsync()) { CommandTimeout = Seconds }.ConnectionString;
}

/// <summary>
/// An import is one transaction that may rightly take minutes on a large store. Its request has no timeout, and the
/// statement timeout of the connection string bounds single commands, not it: an import that waits longer than that
/// is still recorded whole. Its client may give up on it at any time, and then nothing of it is written.
/// </summary>
public sealed class BulkWriteTimeoutTests(ShortStatementTimeoutAppFixture app) : IClassFixture<ShortStatementTimeoutAppFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // The import's inserts, by the lock they ask for: the ANALYZE that an earlier test's import starts in the background
    // (PlannerStatistics) also waits on the SHARE lock, with another mode, and stays waiting until the lock is released.
    private const string ImportWaitsOnTheLock =
        "select exists(select 1 from pg_locks where not granted and relation = 'flowledger.mt_events'::regclass and mode = 'RowExclusiveLock')";

    private readonly LedgerClient _api = LedgerClient.For(app);

    [Fact]
    public async Task A_bulk_import_that_waits_longer_than_the_statement_timeout_is_recorded_whole()
    {
        var (deal, ndjson) = await PaymentsAsync();

        await using (var inserts = await HoldInsertsAsync())
        {
            var import = _api.PostRawAsync("/api/import", ndjson, contentType: "application/x-ndjson");
            await Sql.WaitUntilAsync(app.ConnectionString, ImportWaitsOnTheLock);
            await Task.Delay(TimeSpan.FromSeconds(ShortStatementTimeoutAppFixture.Seconds * 2), Ct);
            await inserts.ReleaseAsync();

            var answer = await import;
            Assert.True(answer.Status == HttpStatusCode.OK, $"Expected 200, got {(int)answer.Status}: {answer.Body}");
        }

        Assert.Equal(LedgerRecorder.BulkEntries, await EventsOfAsync(deal));
    }

    [Fact]
    public async Task An_import_whose_client_gives_up_leaves_nothing_written()
    {
        var (deal, ndjson) = await PaymentsAsync();

        await using (var inserts = await HoldInsertsAsync())
        {
            using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            var import = app.CreateClient(Role.Writer).PostAsync("/api/import", new StringContent(ndjson, Encoding.UTF8, "application/x-ndjson"), giveUp.Token);
            await Sql.WaitUntilAsync(app.ConnectionString, ImportWaitsOnTheLock);
            await giveUp.CancelAsync();

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => import);
            // Its statement is cancelled while it waits, well before any timeout would end it.
            await Sql.WaitUntilAsync(app.ConnectionString, $"select not ({ImportWaitsOnTheLock})");
            await inserts.ReleaseAsync();
        }

        Assert.Equal(0, await EventsOfAsync(deal));
    }

    /// <summary>An import of <see cref="LedgerRecorder.BulkEntries"/> payments between two registered companies, over 20 new deals.</summary>
    private async Task<(string Deal, string Ndjson)> PaymentsAsync()
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        var lines = Enumerable.Range(1, LedgerRecorder.BulkEntries).Select(i => JsonSerializer.Serialize(new
        {
            type = "ServicesPaid", dealId = $"{deal}-{i % 20}", payer = a, payee = b,
            amount = new { amount = i, currency = "USD" }, description = $"payment {i}", effectiveOn = "2025-06-01",
        }));
        return (deal, string.Join('\n', lines));
    }

    /// <summary>A transaction holding a SHARE lock on the events: every read goes on, every insert waits for its end.</summary>
    private async Task<InsertsHeld> HoldInsertsAsync()
    {
        var connection = new NpgsqlConnection(app.ConnectionString);
        await connection.OpenAsync(Ct);
        var transaction = await connection.BeginTransactionAsync(Ct);
        await using var command = new NpgsqlCommand("lock table flowledger.mt_events in share mode", connection, transaction);
        await command.ExecuteNonQueryAsync(Ct);
        return new InsertsHeld(connection, transaction);
    }

    private sealed class InsertsHeld(NpgsqlConnection connection, NpgsqlTransaction transaction) : IAsyncDisposable
    {
        public Task ReleaseAsync() => transaction.CommitAsync(Ct);

        public async ValueTask DisposeAsync()
        {
            await transaction.DisposeAsync();
            await connection.DisposeAsync();
        }
    }

    private Task<long> EventsOfAsync(string deal) =>
        Sql.ScalarAsync<long>(app.ConnectionString, $"select count(*) from flowledger.mt_events where stream_id like '{deal}-%'");
}
