using System.Net;
using System.Text.Json;
using FlowLedger.Api.Ledger;
using FlowLedger.Api.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;

namespace FlowLedger.Api.Tests;

/// <summary>
/// A bulk import leaves the planner statistics of the events table in place (<see cref="PlannerStatistics"/>), so the
/// async daemon's high-water query, run at every page the live feed handles, reads the newest events from the index
/// instead of scanning the table, even before autovacuum's first round; and only tables never analysed are, as
/// autovacuum keeps the statistics up to date after that.
/// </summary>
public sealed class PlannerStatisticsTests(AppFixture app) : IClassFixture<AppFixture>
{
    private readonly LedgerClient _api = LedgerClient.For(app);

    [Fact]
    public async Task After_a_bulk_import_the_daemons_high_water_query_reads_the_newest_events_from_the_index()
    {
        await ImportBulkAsync();

        await Sql.WaitUntilAsync(app.ConnectionString, "select exists (select 1 from pg_stat_user_tables where schemaname = 'flowledger' " +
                                                        "and relname = 'mt_events' and coalesce(last_analyze, last_autoanalyze) is not null)");

        // Marten's gap detection (GapDetector) from a high-water mark just below the newest event.
        var newest = await Sql.ScalarAsync<long>(app.ConnectionString, "select max(seq_id) from flowledger.mt_events");
        var plan = string.Join('\n', await Sql.QueryAsync(app.ConnectionString, $"""
            explain select seq_id from (select seq_id, lead(seq_id) over (order by seq_id) as next_seq
                                        from flowledger.mt_events where seq_id >= {newest - 20}) gaps
            where next_seq is not null and next_seq - seq_id > 1 order by seq_id limit 1
            """, reader => reader.GetString(0)));
        Assert.DoesNotContain("Seq Scan", plan);
        Assert.Contains("pkey_mt_events_seq_id", plan);
    }

    [Fact]
    public async Task A_bulk_import_into_tables_that_have_statistics_analyses_nothing_more()
    {
        var statistics = app.Host.Services.GetRequiredService<PlannerStatistics>();
        await ImportBulkAsync();
        await statistics.AnalyseNeverAnalysedInBackground();
        Assert.Equal(PlannerStatistics.GrowingTables.Count, await Sql.ScalarAsync<long>(app.ConnectionString,
            $"select count(*) from pg_stat_user_tables where schemaname = 'flowledger' and {IsGrowingTable} and coalesce(last_analyze, last_autoanalyze) is not null"));
        var before = await ManualAnalysesAsync();

        await ImportBulkAsync();
        await statistics.AnalyseNeverAnalysedInBackground();

        Assert.Equal(before, await ManualAnalysesAsync());
    }

    private static readonly string IsGrowingTable = $"relname in ({string.Join(", ", PlannerStatistics.GrowingTables.Select(t => $"'{t}'"))})";

    /// <summary>ANALYZE commands run on each table, by table; autovacuum's own are counted apart and left out.</summary>
    private async Task<Dictionary<string, long>> ManualAnalysesAsync() =>
        (await Sql.QueryAsync(app.ConnectionString,
            $"select relname, analyze_count from pg_stat_user_tables where schemaname = 'flowledger' and {IsGrowingTable}",
            reader => (Table: reader.GetString(0), Count: reader.GetInt64(1))))
        .ToDictionary(row => row.Table, row => row.Count);

    private Task ImportBulkAsync() => _api.ImportPaymentsAsync(LedgerRecorder.BulkEntries + 500);
}
