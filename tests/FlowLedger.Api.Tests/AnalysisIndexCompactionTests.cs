using FlowLedger.Api.Ledger;
using FlowLedger.Api.Tests.Fixtures;
using FlowLedger.Projections.Balances;
using Microsoft.Extensions.DependencyInjection;

namespace FlowLedger.Api.Tests;

/// <summary>
/// The index trace and loops read whole is rebuilt once bulk writes have bloated it (<see cref="AnalysisIndexCompaction"/>),
/// and left alone while it is compact.
/// </summary>
public sealed class AnalysisIndexCompactionTests(AppFixture app) : IClassFixture<AppFixture>
{
    private readonly LedgerClient _api = LedgerClient.For(app);

    private AnalysisIndexCompaction Compaction => app.Host.Services.GetRequiredService<AnalysisIndexCompaction>();

    [Fact]
    public async Task A_bloated_index_is_rebuilt_compact_with_the_same_answers_and_a_compact_one_is_left_alone()
    {
        // Postings that stay, closed at the instant they opened so that no query sees them: the rebuilt index is then
        // large enough to be judged on its size against its compact size, not left alone for being small.
        await InsertPostingsAsync(Ids.New("ballast"), closed: true);
        await BloatAsync();
        var loopsBefore = (await _api.GetAsync("/api/loops?layer=cash")).Body!.ToJsonString();
        var (bloatedOid, bloatedBytes) = await IndexAsync();

        Assert.True(await Compaction.CompactIfBloatedAsync(TestContext.Current.CancellationToken));

        var (compactOid, compactBytes) = await IndexAsync();
        Assert.NotEqual(bloatedOid, compactOid);
        Assert.True(compactBytes * AnalysisIndexCompaction.BloatFactor < bloatedBytes, $"{bloatedBytes:N0} bytes before, {compactBytes:N0} after");
        Assert.True(await Sql.ScalarAsync<bool>(app.ConnectionString, $"select indisvalid from pg_index where indexrelid = {compactOid}"));
        Assert.Equal(loopsBefore, (await _api.GetAsync("/api/loops?layer=cash")).Body!.ToJsonString());

        Assert.True(compactBytes >= AnalysisIndexCompaction.MinimumBytes, $"{compactBytes:N0} bytes after");
        Assert.False(await Compaction.CompactIfBloatedAsync(TestContext.Current.CancellationToken));
        Assert.Equal(compactOid, (await IndexAsync()).Oid);
    }

    [Fact]
    public async Task A_bulk_import_into_a_store_whose_index_is_bloated_rebuilds_it_in_the_background()
    {
        await BloatAsync();
        var (bloatedOid, _) = await IndexAsync();

        await _api.ImportPaymentsAsync(LedgerRecorder.BulkEntries);

        await Sql.WaitUntilAsync(app.ConnectionString,
            $"select coalesce(to_regclass('flowledger.{PostingsTable.AnalysisIndex}')::oid <> {bloatedOid}, false)");
    }

    [Fact]
    public async Task A_rebuild_left_half_done_is_dropped_before_the_next()
    {
        await BloatAsync();
        // What a REINDEX CONCURRENTLY stopped half-way leaves: an invalid copy, which every write would keep updating.
        await Sql.ScalarAsync<object>(app.ConnectionString,
            $"create index {PostingsTable.AnalysisIndex}_ccnew on flowledger.{PostingsTable.Name} (layer) where false");
        await Sql.ScalarAsync<object>(app.ConnectionString,
            $"update pg_index set indisvalid = false where indexrelid = 'flowledger.{PostingsTable.AnalysisIndex}_ccnew'::regclass");

        Assert.True(await Compaction.CompactIfBloatedAsync(TestContext.Current.CancellationToken));

        Assert.True(await Sql.ScalarAsync<bool>(app.ConnectionString, $"select to_regclass('flowledger.{PostingsTable.AnalysisIndex}_ccnew') is null"));
    }

    /// <summary>
    /// Postings of made-up events inserted in random order of effective date, then deleted and vacuumed: the index keeps
    /// the pages they filled, as it keeps those of the entries that closed postings leave dead. Each test's bloat is gone
    /// from the table, so the index's compact size stays that of the store's own rows.
    /// </summary>
    private async Task BloatAsync()
    {
        var stream = Ids.New("bloat");
        await InsertPostingsAsync(stream, closed: false);
        await Sql.ScalarAsync<object>(app.ConnectionString, $"delete from flowledger.{PostingsTable.Name} where stream_key = '{stream}'");
        await Sql.ScalarAsync<object>(app.ConnectionString, $"vacuum analyze flowledger.{PostingsTable.Name}");
    }

    /// <summary>120,000 cash postings of made-up events in <paramref name="stream"/>, in random order of effective date.</summary>
    private Task InsertPostingsAsync(string stream, bool closed) => Sql.ScalarAsync<object>(app.ConnectionString, $"""
        insert into flowledger.{PostingsTable.Name}
            (event_id, ordinal, known_from, known_to, stream_key, effective_on, layer, asset, from_party, to_party, quantity, event_sequence)
        select gen_random_uuid(), 0, now(), {(closed ? "now()" : "null")}, '{stream}', date '2023-01-01' + (random() * 1000)::int,
               'cash', 'USD', 'made-up-a', 'made-up-b', n, -n
        from generate_series(1, 120000) n order by random()
        """);

    private async Task<(uint Oid, long Bytes)> IndexAsync() =>
        (await Sql.QueryAsync(app.ConnectionString,
            $"select c.oid, pg_relation_size(c.oid) from pg_class c where c.oid = 'flowledger.{PostingsTable.AnalysisIndex}'::regclass",
            reader => (reader.GetFieldValue<uint>(0), reader.GetInt64(1)))).Single();
}
