using System.Data.Common;
using FlowLedger.Domain;
using Marten.Linq.QueryHandlers;
using NodaTime;
using Weasel.Postgresql;
using Weasel.Storage;

namespace FlowLedger.Api.Ledger;

/// <summary>
/// The stored histories of some deals, as one statement of a batch query, built from the rows straight into what the
/// decider takes. Marten's <c>FetchStream</c> made an <c>IEvent</c> of every row first, with its own copies of the
/// stream key and the type names: for an import, whose deals are most of the store, that was most of its garbage and
/// of its peak memory (docs/benchmarks.md).
/// </summary>
public sealed class DealHistories(IReadOnlyList<string> dealIds) : IQueryHandler<Dictionary<string, KnownDeal>>
{
    public void ConfigureCommand(ICommandBuilder builder, IStorageSession session)
    {
        builder.Append($"select stream_id, id, seq_id, version, timestamp, type, data from {LedgerStore.Schema}.mt_events where stream_id = any(");
        builder.AppendParameter(dealIds.ToArray());
        builder.Append(") order by stream_id, version");
    }

    public async Task<Dictionary<string, KnownDeal>> HandleAsync(DbDataReader reader, IStorageSession session, CancellationToken token)
    {
        var histories = dealIds.ToDictionary(dealId => dealId, _ => new List<RecordedEntry>(), StringComparer.Ordinal);
        var versions = new Dictionary<string, long>(StringComparer.Ordinal);
        while (await reader.ReadAsync(token))
        {
            var dealId = reader.GetString(0);
            var data = (ILedgerEvent)session.Serializer.FromJson(EventCatalog.Types[reader.GetString(5)], reader, 6);
            histories[dealId].Add(new RecordedEntry(reader.GetGuid(1), reader.GetInt64(2), Instant.FromDateTimeOffset(reader.GetFieldValue<DateTimeOffset>(4)), data));
            versions[dealId] = reader.GetInt64(3);
        }
        return histories.ToDictionary(h => h.Key, h => h.Value.Count == 0 ? KnownDeal.New : new KnownDeal(versions[h.Key], h.Value), StringComparer.Ordinal);
    }

    public Task<int> StreamJson(Stream stream, DbDataReader reader, CancellationToken token) =>
        throw new NotSupportedException("Deal histories are read as objects, never streamed as JSON.");
}
