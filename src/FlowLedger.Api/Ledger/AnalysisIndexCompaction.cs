using FlowLedger.Api.Hosting;
using FlowLedger.Projections.Balances;
using Marten;
using Npgsql;

namespace FlowLedger.Api.Ledger;

/// <summary>
/// Rebuilds the index that trace and loops read whole (<see cref="PostingsTable.AnalysisIndex"/>) once bulk writes have
/// bloated it. An import of history inserts postings in no order of effective date, which the index is sorted by, and
/// the rows that backdated events close leave dead entries behind: autovacuum lets their space be reused but never
/// gives pages back. After importing the 1,000,000-event benchmark ledger the index took 319 MB where a rebuilt one
/// takes 186 MB, and trace and loops took 2.0–3.0 s instead of 1.1–1.5 s (docs/benchmarks.md). The rebuild is a
/// <c>REINDEX CONCURRENTLY</c>, so writes and reads go on meanwhile, by one node at a time.
/// </summary>
public sealed class AnalysisIndexCompaction(IDocumentStore store, ILogger<AnalysisIndexCompaction> logger)
{
    /// <summary>
    /// Times its compact size from which the index is rebuilt. A B-tree filled in random key order alone keeps its
    /// pages about two-thirds full, 1.3 times its compact size; the imported store's was 1.8 times, and rebuilding it
    /// halved the time of trace and loops. At the end of an import with rebuilds along the way it was 1.17 times, and
    /// rebuilding it then made no difference beyond the noise (docs/benchmarks.md).
    /// </summary>
    public const double BloatFactor = 1.5;

    /// <summary>Below this the index costs too little to read for a rebuild to be worth it.</summary>
    public const long MinimumBytes = 8 * 1024 * 1024;

    private readonly BackgroundRun _compaction = new();

    /// <summary>
    /// Starts <see cref="CompactIfBloatedAsync"/> unless it is under way, and answers that run at once. The run never
    /// fails: what goes wrong is logged, and the next bulk write tries again.
    /// </summary>
    public Task CompactIfBloatedInBackground() => _compaction.Start(
        () => CompactIfBloatedAsync(CancellationToken.None),
        ex => logger.LogWarning(ex, "Could not rebuild {Index}; the next bulk write tries again", PostingsTable.AnalysisIndex));

    /// <summary>Rebuilds the index if it is at least <see cref="BloatFactor"/> times its compact size; answers whether it did.</summary>
    public async Task<bool> CompactIfBloatedAsync(CancellationToken ct)
    {
        var schema = store.Options.Events.DatabaseSchemaName;
        var index = $"{schema}.{PostingsTable.AnalysisIndex}";
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        // Session-level, so that it spans the REINDEX, which cannot run inside a transaction. Another node that holds it
        // is rebuilding already.
        if (!await connection.ScalarAsync<bool>($"select pg_try_advisory_lock(hashtext('{index}'))", ct))
        {
            return false;
        }
        try
        {
            await DropUnfinishedRebuildsAsync(connection, schema, ct);
            var (bytes, compactBytes) = await SizesAsync(connection, schema, ct);
            if (bytes < MinimumBytes || compactBytes is not { } compact || bytes < BloatFactor * compact)
            {
                return false;
            }
            await using var reindex = new NpgsqlCommand($"reindex index concurrently {index}", connection) { CommandTimeout = 0 };
            await reindex.ExecuteNonQueryAsync(ct);
            logger.LogInformation("Rebuilt {Index}: it took {Bytes:N0} bytes where about {Compact:N0} would do", index, bytes, compact);
            return true;
        }
        finally
        {
            await connection.ScalarAsync<bool>($"select pg_advisory_unlock(hashtext('{index}'))", CancellationToken.None);
        }
    }

    /// <summary>The index's size, and its compact size while the table has statistics.</summary>
    private static async Task<(long Bytes, long? CompactBytes)> SizesAsync(NpgsqlConnection connection, string schema, CancellationToken ct)
    {
        await using var sizes = new NpgsqlCommand(PostingsTable.AnalysisIndexSizesSql(schema), connection);
        await using var reader = await sizes.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetInt64(1));
    }

    /// <summary>
    /// A REINDEX CONCURRENTLY stopped half-way (the process or the database went down) leaves an invalid copy of the index
    /// named <c>…_ccnew</c>, which every write still updates. PostgreSQL's advice is to drop it before trying again.
    /// </summary>
    private static async Task DropUnfinishedRebuildsAsync(NpgsqlConnection connection, string schema, CancellationToken ct)
    {
        var unfinished = new List<string>();
        await using (var find = new NpgsqlCommand(
                         "select i.relname from pg_index x join pg_class i on i.oid = x.indexrelid join pg_namespace n on n.oid = i.relnamespace " +
                         "where n.nspname = @schema and not x.indisvalid and i.relname like @copies", connection))
        {
            find.Parameters.AddWithValue("schema", schema);
            find.Parameters.AddWithValue("copies", PostingsTable.AnalysisIndex + "\\_ccnew%");
            await using var reader = await find.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                unfinished.Add(reader.GetString(0));
            }
        }
        foreach (var copy in unfinished)
        {
            await using var drop = new NpgsqlCommand($"drop index concurrently if exists {schema}.{copy}", connection) { CommandTimeout = 0 };
            await drop.ExecuteNonQueryAsync(ct);
        }
    }
}
