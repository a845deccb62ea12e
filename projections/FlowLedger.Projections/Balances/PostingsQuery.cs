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
    /// The cash and commitment postings visible at a point in time, by event, in the order of SPEC §2 —
    /// what trace and loops follow, read from the projection instead of refolding the store.
    /// </summary>
    public static async Task<IReadOnlyList<PostedEvent>> PostedEventsAsync(IDocumentStore store, LocalDate? asOf, Instant knownAt, CancellationToken ct)
    {
        var schema = store.Options.Events.DatabaseSchemaName;
        var sql = $"""
            select event_id, event_sequence, effective_on, stream_key, layer, asset, from_party, to_party, quantity
            from {schema}.{PostingsTable.Name}
            where layer <> 'holding'
              and (@as_of::date is null or effective_on <= @as_of)
              and known_from <= @known_at and (known_to is null or known_to > @known_at)
            order by effective_on, event_sequence, ordinal
            """;
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.Add(new NpgsqlParameter("as_of", NpgsqlTypes.NpgsqlDbType.Date) { Value = (object?)asOf?.ToDateOnly() ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("known_at", NpgsqlTypes.NpgsqlDbType.TimestampTz) { Value = knownAt.ToDateTimeOffset() });

        var events = new List<PostedEvent>();
        List<Posting>? postings = null;
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var eventId = reader.GetGuid(0);
            if (events.Count == 0 || events[^1].EventId != eventId)
            {
                var streamKey = reader.GetString(3);
                postings = [];
                events.Add(new PostedEvent(eventId, reader.GetInt64(1), LocalDate.FromDateOnly(reader.GetFieldValue<DateOnly>(2)),
                    CompanyProfile.IsCompanyStream(streamKey) ? null : streamKey, postings));
            }
            postings!.Add(new Posting(PostingsTable.ParseLayer(reader.GetString(4)), reader.GetString(5), reader.GetString(6), reader.GetString(7), reader.GetDecimal(8)));
        }
        return events;
    }
}
