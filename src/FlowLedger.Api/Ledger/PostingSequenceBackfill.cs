using FlowLedger.Projections.Balances;
using Marten;
using Npgsql;

namespace FlowLedger.Api.Ledger;

/// <summary>
/// Gives the posting rows of a store written before <c>fl_postings.event_sequence</c> existed their event's sequence,
/// before the app serves: trace and loops order by it. Once done, starting costs one probe of an empty index.
/// </summary>
public sealed class PostingSequenceBackfill(IDocumentStore store, ILogger<PostingSequenceBackfill> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var schema = store.Options.Events.DatabaseSchemaName;
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellationToken);
        // Asked first: the update joins the whole events table, which is worth it only when some row waits.
        await using var probe = new NpgsqlCommand($"select exists (select 1 from {schema}.{PostingsTable.Name} where event_sequence is null)", connection);
        if (await probe.ExecuteScalarAsync(cancellationToken) is not true)
        {
            return;
        }
        logger.LogInformation("Filling the event sequence of posting rows written before it was stored; once per store, it may take minutes");
        await using var backfill = new NpgsqlCommand(PostingsTable.BackfillSequencesSql(schema), connection) { CommandTimeout = 0 };
        var filled = await backfill.ExecuteNonQueryAsync(cancellationToken);
        logger.LogInformation("Filled the event sequence of {Rows} posting rows", filled);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
