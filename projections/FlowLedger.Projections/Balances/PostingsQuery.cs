using System.Runtime.CompilerServices;
using FlowLedger.Domain;
using Marten;
using NodaTime;
using Npgsql;

namespace FlowLedger.Projections.Balances;

/// <summary>Reads the totals of the postings visible at a point in time straight from <see cref="PostingsTable"/>.</summary>
public static class PostingsQuery
{
    /// <param name="party">Only the postings this company takes part in; all when null.</param>
    public static async Task<IReadOnlyList<PostingTotal>> TotalsAsync(
        IDocumentStore store, LocalDate? asOf, Instant knownAt, string? party, CancellationToken ct)
    {
        var schema = store.Options.Events.DatabaseSchemaName;
        var sql = $"""
            select layer, asset, from_party, to_party, sum(quantity)
            from {schema}.{PostingsTable.Name}
            where (@party::text is null or from_party = @party or to_party = @party)
              and (@as_of::date is null or effective_on <= @as_of)
              and known_from <= @known_at and (known_to is null or known_to > @known_at)
            group by layer, asset, from_party, to_party
            """;
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.Add(new NpgsqlParameter("party", NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)party ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("as_of", NpgsqlTypes.NpgsqlDbType.Date) { Value = (object?)asOf?.ToDateOnly() ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("known_at", NpgsqlTypes.NpgsqlDbType.TimestampTz) { Value = knownAt.ToDateTimeOffset() });

        var totals = new List<PostingTotal>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            totals.Add(new PostingTotal(PostingsTable.ParseLayer(reader.GetString(0)), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetDecimal(4)));
        }
        return totals;
    }

    /// <summary>
    /// The postings of one layer (cash or commitment) visible at a point in time, in the order of SPEC §2 — what trace
    /// and loops follow. They stream from a covering index in that order, one at a time, so a request holds only what
    /// its analysis keeps, not the millions of postings of a large store.
    /// </summary>
    /// <param name="asset">Only the postings of this asset; every asset of the layer when null.</param>
    public static async IAsyncEnumerable<LayerPosting> LayerPostingsAsync(
        IDocumentStore store, Layer layer, string? asset, LocalDate? asOf, Instant knownAt, [EnumeratorCancellation] CancellationToken ct)
    {
        if (layer is not (Layer.Cash or Layer.Commitment))
        {
            throw new ArgumentOutOfRangeException(nameof(layer), layer, "Trace and loops follow the cash and the commitment layer only.");
        }
        var schema = store.Options.Events.DatabaseSchemaName;
        // "layer <> 'holding'" repeats the covering index's predicate, so the planner can use that index whatever the layer parameter.
        var sql = $"""
            select event_id, event_sequence, effective_on, stream_key, asset, from_party, to_party, quantity
            from {schema}.{PostingsTable.Name}
            where layer = @layer and layer <> 'holding'
              and (@asset::text is null or asset = @asset)
              and (@as_of::date is null or effective_on <= @as_of)
              and known_from <= @known_at and (known_to is null or known_to > @known_at)
            order by effective_on, event_sequence, ordinal
            """;
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.Add(new NpgsqlParameter("layer", NpgsqlTypes.NpgsqlDbType.Text) { Value = PostingsTable.LayerName(layer) });
        command.Parameters.Add(new NpgsqlParameter("asset", NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)asset ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("as_of", NpgsqlTypes.NpgsqlDbType.Date) { Value = (object?)asOf?.ToDateOnly() ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("known_at", NpgsqlTypes.NpgsqlDbType.TimestampTz) { Value = knownAt.ToDateTimeOffset() });

        // Party ids, deals and assets repeat on almost every row: each distinct one is kept once, not once per posting.
        var names = new NameTable();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var streamKey = names.Read(reader, 3);
            yield return new LayerPosting(
                reader.GetGuid(0), reader.GetInt64(1), LocalDate.FromDateOnly(reader.GetFieldValue<DateOnly>(2)),
                CompanyProfile.IsCompanyStream(streamKey) ? null : streamKey,
                new Posting(layer, names.Read(reader, 4), names.Read(reader, 5), names.Read(reader, 6), reader.GetDecimal(7)));
        }
    }

    /// <summary>Reads text columns into one shared string per distinct value, so what the analysis keeps holds each name once.</summary>
    private sealed class NameTable
    {
        private readonly Dictionary<string, string> _names = new(StringComparer.Ordinal);

        public string Read(NpgsqlDataReader reader, int ordinal)
        {
            // The string read here dies young; looking it up is cheaper than Npgsql's chars-into-a-buffer path.
            var read = reader.GetString(ordinal);
            if (_names.TryGetValue(read, out var name))
            {
                return name;
            }
            _names.Add(read, read);
            return read;
        }
    }
}

/// <summary>One visible posting as trace and loops follow it: its event, that event's place in the order of SPEC §2, its deal.</summary>
public readonly record struct LayerPosting(Guid EventId, long Sequence, LocalDate EffectiveOn, string? DealId, Posting Posting);
