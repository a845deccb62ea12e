using System.Text.Json;
using FlowLedger.Api.Ledger;
using FlowLedger.Domain;
using FlowLedger.Projections;
using JasperFx.Events;
using Marten;
using NodaTime;
using Npgsql;
using Wolverine.Http;

namespace FlowLedger.Api.Reading;

/// <summary>GET /api/events — the recorded events in sequence order, as they were recorded.</summary>
public static class ListEventsEndpoint
{
    public sealed record RecordedEventView(
        Guid EventId, long Sequence, string Type, string? DealId, LocalDate EffectiveOn, Instant RecordedAt, string? RecordedBy,
        long Version, JsonElement Data);

    private const int MaxLimit = 1000;

    [WolverineGet("/api/events", OperationId = "ListEvents")]
    [Tags("Reading")]
    public static async Task<IResult> Get(
        string? dealId, string? companyId, long? afterSequence, int? limit, IDocumentStore store, CancellationToken ct)
    {
        var take = limit ?? 100;
        if (take is < 1 or > MaxLimit)
        {
            return Problems.Malformed($"limit must be between 1 and {MaxLimit}.");
        }
        return Results.Ok(await ReadAsync(store, afterSequence ?? 0L, throughSequence: null, dealId, companyId, take, ct));
    }

    /// <summary>The recorded events after a sequence (and up to another, when given), in sequence order.</summary>
    public static async Task<IReadOnlyList<RecordedEventView>> ReadAsync(
        IDocumentStore store, long afterSequence, long? throughSequence, string? dealId, string? companyId, int limit, CancellationToken ct)
    {
        var schema = store.Options.Events.DatabaseSchemaName;
        var companyFilter = string.Join(" or ", EventRules.PartyFields.Select(f => $"data->>'{f}' = @company"));
        var sql = $"""
            select seq_id, id, type, stream_id, data, timestamp, user_name, version
            from {schema}.mt_events
            where seq_id > @after
              and (@through::bigint is null or seq_id <= @through)
              and stream_id <> @tombstones
              and (@deal::text is null or stream_id = @deal)
              and (@company::text is null or {companyFilter})
            order by seq_id
            limit @limit
            """;

        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("after", afterSequence);
        // Marten fills the sequence numbers of a failed append with empty tombstone events: they are no ledger events.
        command.Parameters.AddWithValue("tombstones", Tombstone.StreamKey);
        command.Parameters.Add(new NpgsqlParameter("through", NpgsqlTypes.NpgsqlDbType.Bigint) { Value = (object?)throughSequence ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("deal", NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)dealId ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("company", NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)companyId ?? DBNull.Value });
        command.Parameters.AddWithValue("limit", limit);

        var events = new List<RecordedEventView>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var type = reader.GetString(2);
            var streamKey = reader.GetString(3);
            using var data = JsonDocument.Parse(reader.GetString(4));
            events.Add(new RecordedEventView(
                reader.GetGuid(1), reader.GetInt64(0), type,
                DealId: type == nameof(CompanyRegistered) ? null : streamKey,
                EffectiveOn: TimeQuery.ParseDate("effectiveOn", data.RootElement.GetProperty("effectiveOn").GetString()!),
                RecordedAt: Instant.FromDateTimeOffset(reader.GetFieldValue<DateTimeOffset>(5)),
                RecordedBy: reader.IsDBNull(6) ? null : reader.GetString(6),
                Version: reader.GetInt64(7),
                Data: data.RootElement.Clone()));
        }
        return events;
    }
}
