using FlowLedger.Api.Tests.Fixtures;
using static FlowLedger.Api.Tests.Fixtures.LedgerClient;

namespace FlowLedger.Api.Tests;

/// <summary>
/// Event ids are time-ordered (UUID version 7) in PostgreSQL's own ordering of uuids, so the indexes that lead with
/// them grow at one edge. The class has its own app: it moves the clock.
/// </summary>
public sealed class EventIdTests(AppFixture app) : IClassFixture<AppFixture>
{
    private readonly LedgerClient _api = LedgerClient.For(app);

    [Fact]
    public async Task Events_recorded_later_have_greater_ids_as_PostgreSQL_compares_them()
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        for (var i = 1; i <= 6; i++)
        {
            app.Clock.AdvanceMilliseconds(2);
            await _api.RecordAsync(deal, new { type = "ServicesPaid", payer = a, payee = b, amount = Usd(i), description = $"payment {i}", effectiveOn = "2025-03-01" });
        }

        var ids = await Sql.QueryAsync(app.ConnectionString,
            $"select id::text from flowledger.mt_events where stream_id = '{deal}' order by seq_id", reader => reader.GetString(0));
        var inPostgresOrder = await Sql.QueryAsync(app.ConnectionString,
            $"select id::text from flowledger.mt_events where stream_id = '{deal}' order by id", reader => reader.GetString(0));

        Assert.Equal(6, ids.Count);
        Assert.Equal(ids, inPostgresOrder);
        Assert.All(ids, id => Assert.Equal('7', id[14]));
    }
}
