using FlowLedger.Projections.Balances;
using Marten;
using Npgsql;

namespace FlowLedger.Api.Ledger;

/// <summary>
/// Gives the tables a bulk write grows their first planner statistics, as PostgreSQL advises after a bulk load, instead
/// of leaving them without any until autovacuum's first round (a minute or more on a fresh store). Until a table has
/// statistics the planner guesses a third of it for any range of sequences: the async daemon's high-water query, run at
/// every page the live feed handles, then scanned all of <c>mt_events</c> (23 ms at 30,000 events) instead of reading
/// the few newest rows from the index (0.1 ms). Once a table has statistics, a range past them is estimated from the
/// index, and autovacuum keeps them as the table grows: only a table never analysed needs this.
/// </summary>
public sealed class PlannerStatistics(IDocumentStore store, ILogger<PlannerStatistics> logger)
{
    /// <summary>The tables a bulk write grows, and so the ones analysed after it if they never were.</summary>
    public static readonly IReadOnlyList<string> GrowingTables = ["mt_events", "mt_streams", PostingsTable.Name];

    private readonly BackgroundRun _analysis = new();

    /// <summary>
    /// Starts <see cref="AnalyseNeverAnalysedAsync"/> unless it is under way, and answers that run at once: the bulk
    /// write has committed, and its answer does not wait for the analysis (about half a second per table at 20,000
    /// events). The run never fails; what goes wrong is logged, and autovacuum analyses the tables later.
    /// </summary>
    public Task AnalyseNeverAnalysedInBackground() => _analysis.Start(
        AnalyseNeverAnalysedAsync, ex => logger.LogWarning(ex, "Could not analyse the tables after a bulk write; autovacuum will"));

    private async Task AnalyseNeverAnalysedAsync()
    {
        var schema = store.Options.Events.DatabaseSchemaName;
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync();
        var unanalysed = new List<string>();
        await using (var probe = new NpgsqlCommand(
                         "select relname from pg_stat_user_tables where schemaname = @schema and relname = any(@tables) " +
                         "and coalesce(last_analyze, last_autoanalyze) is null",
                         connection))
        {
            probe.Parameters.AddWithValue("schema", schema);
            probe.Parameters.AddWithValue("tables", GrowingTables.ToArray());
            await using var reader = await probe.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                unanalysed.Add(reader.GetString(0));
            }
        }
        foreach (var table in unanalysed)
        {
            await using var analyze = new NpgsqlCommand($"analyze {schema}.{table}", connection) { CommandTimeout = 0 };
            await analyze.ExecuteNonQueryAsync();
        }
        if (unanalysed.Count > 0)
        {
            logger.LogInformation("Analysed {Tables}, never analysed before, after a bulk write", string.Join(", ", unanalysed));
        }
    }
}
