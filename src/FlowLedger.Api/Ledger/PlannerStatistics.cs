using FlowLedger.Projections.Balances;
using Marten;
using Npgsql;

namespace FlowLedger.Api.Ledger;

/// <summary>
/// Brings PostgreSQL's planner statistics of the tables a bulk write grows up to date, as PostgreSQL advises after a
/// bulk load, instead of waiting for autovacuum's next round (a minute or more). Until a table has statistics the
/// planner guesses a third of it for any range of sequences: the async daemon's high-water query, run at every page
/// the live feed handles, then scanned all of <c>mt_events</c> (23 ms at 30,000 events) instead of reading the few
/// newest rows from the index (0.1 ms). Once a table has statistics, a range beyond them is estimated from the
/// index, so they need refreshing only after the table grew by a good part of itself.
/// </summary>
public sealed class PlannerStatistics(IDocumentStore store, ILogger<PlannerStatistics> logger)
{
    /// <summary>Events in one write from which it counts as a bulk load.</summary>
    public const int BulkEntries = 1_000;

    /// <summary>The share of a table written since its last analysis from which its statistics count as stale.</summary>
    private const double StaleShare = 0.2;

    private static readonly string[] GrowingTables = ["mt_events", "mt_streams", PostingsTable.Name];

    private int _refreshing;

    /// <summary>
    /// Starts <see cref="RefreshStaleAsync"/> unless a refresh is under way, and returns at once: the bulk write has
    /// committed, and its answer does not wait for the analysis (about half a second per table at 20,000 events). A write
    /// that lands during a refresh is caught up by the next one; meanwhile the planner estimates the rows past its
    /// statistics from the index.
    /// </summary>
    public void RefreshStaleInBackground()
    {
        if (Interlocked.CompareExchange(ref _refreshing, 1, 0) != 0)
        {
            return;
        }
        _ = Task.Run(async () =>
        {
            try
            {
                await RefreshStaleAsync();
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Could not refresh the planner statistics after a bulk write; autovacuum will");
            }
            finally
            {
                Volatile.Write(ref _refreshing, 0);
            }
        });
    }

    /// <summary>Analyses each of the ledger's growing tables that was never analysed or changed by more than <see cref="StaleShare"/> since.</summary>
    private async Task RefreshStaleAsync()
    {
        var schema = store.Options.Events.DatabaseSchemaName;
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync();
        var stale = new List<string>();
        await using (var probe = new NpgsqlCommand(
                         "select relname from pg_stat_user_tables where schemaname = @schema and relname = any(@tables) " +
                         "and (coalesce(last_analyze, last_autoanalyze) is null or n_mod_since_analyze > @share * greatest(n_live_tup, 1))",
                         connection))
        {
            probe.Parameters.AddWithValue("schema", schema);
            probe.Parameters.AddWithValue("tables", GrowingTables);
            probe.Parameters.AddWithValue("share", StaleShare);
            await using var reader = await probe.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                stale.Add(reader.GetString(0));
            }
        }
        foreach (var table in stale)
        {
            await using var analyze = new NpgsqlCommand($"analyze {schema}.{table}", connection) { CommandTimeout = 0 };
            await analyze.ExecuteNonQueryAsync();
        }
        if (stale.Count > 0)
        {
            logger.LogInformation("Refreshed the planner statistics of {Tables} after a bulk write", string.Join(", ", stale));
        }
    }
}
