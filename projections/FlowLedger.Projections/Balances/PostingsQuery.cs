using System.Runtime.CompilerServices;
using System.Threading.Channels;
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
    /// and loops follow. They stream from a covering index in that order, a chunk at a time, so a request holds only
    /// what its analysis keeps, not the millions of postings of a large store; and only the columns asked for are sent.
    /// Chunks rather than single postings: stepping an async enumerator once per posting cost more than some analyses.
    /// </summary>
    public static async IAsyncEnumerable<ReadOnlyMemory<LayerPosting>> LayerPostingChunksAsync(
        IDocumentStore store, LayerRead read, LocalDate? asOf, Instant knownAt, [EnumeratorCancellation] CancellationToken ct)
    {
        if (read.Layer is not (Layer.Cash or Layer.Commitment))
        {
            throw new ArgumentOutOfRangeException(nameof(read), read.Layer, "Trace and loops follow the cash and the commitment layer only.");
        }
        // Without an asset to keep to, the rows must say theirs.
        var detail = read.Asset is null ? read.Detail | PostingDetail.Asset : read.Detail;
        var optional = new (PostingDetail Detail, string Column)[]
            {
                (PostingDetail.EventId, "event_id"), (PostingDetail.Sequence, "event_sequence"),
                (PostingDetail.Deal, "stream_key"), (PostingDetail.Asset, "asset"),
            }
            .Where(column => detail.HasFlag(column.Detail))
            .ToList();
        int? OrdinalOf(PostingDetail wanted) => optional.FindIndex(column => column.Detail == wanted) is >= 0 and var index ? 4 + index : null;
        var (eventIdAt, sequenceAt, dealAt, assetAt) =
            (OrdinalOf(PostingDetail.EventId), OrdinalOf(PostingDetail.Sequence), OrdinalOf(PostingDetail.Deal), OrdinalOf(PostingDetail.Asset));

        var schema = store.Options.Events.DatabaseSchemaName;
        // "layer <> 'holding'" repeats the covering index's predicate, so the planner can use that index whatever the layer parameter.
        var sql = $"""
            select effective_on, from_party, to_party, quantity{string.Concat(optional.Select(column => ", " + column.Column))}
            from {schema}.{PostingsTable.Name}
            where layer = @layer and layer <> 'holding'
              and (@asset::text is null or asset = @asset)
              and (not @companies_only or (from_party <> @external and to_party <> @external))
              and (@as_of::date is null or effective_on <= @as_of)
              and known_from <= @known_at and (known_to is null or known_to > @known_at)
            order by effective_on, event_sequence, ordinal
            """;
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.Add(new NpgsqlParameter("layer", NpgsqlTypes.NpgsqlDbType.Text) { Value = PostingsTable.LayerName(read.Layer) });
        command.Parameters.Add(new NpgsqlParameter("asset", NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)read.Asset ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("companies_only", NpgsqlTypes.NpgsqlDbType.Boolean) { Value = read.CompaniesOnly });
        command.Parameters.Add(new NpgsqlParameter("external", NpgsqlTypes.NpgsqlDbType.Text) { Value = Parties.External });
        command.Parameters.Add(new NpgsqlParameter("as_of", NpgsqlTypes.NpgsqlDbType.Date) { Value = (object?)asOf?.ToDateOnly() ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("known_at", NpgsqlTypes.NpgsqlDbType.TimestampTz) { Value = knownAt.ToDateTimeOffset() });

        // Decoding a row costs the app about as much as the analysis that takes it: the rows are read and decoded on
        // another thread, a chunk at a time, while the analysis takes the chunks before, so the two use both cores.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var chunks = Channel.CreateBounded<ReadOnlyMemory<LayerPosting>>(new BoundedChannelOptions(ChunksAhead) { SingleReader = true, SingleWriter = true });
        var reading = Task.Run(async () =>
        {
            try
            {
                // Party ids, deals and assets repeat on almost every row: each distinct one is kept once, not once per posting.
                var names = new NameTable();
                await using var reader = await command.ExecuteReaderAsync(stop.Token);
                var chunk = new LayerPosting[ChunkRows];
                var rows = 0;
                while (await reader.ReadAsync(stop.Token))
                {
                    var streamKey = dealAt is { } deal ? names.Read(reader, deal) : null;
                    chunk[rows++] = new LayerPosting(
                        eventIdAt is { } eventId ? reader.GetGuid(eventId) : Guid.Empty,
                        sequenceAt is { } sequence ? reader.GetInt64(sequence) : 0,
                        LocalDate.FromDateOnly(reader.GetFieldValue<DateOnly>(0)),
                        streamKey is null || CompanyProfile.IsCompanyStream(streamKey) ? null : streamKey,
                        assetAt is { } asset ? names.Read(reader, asset) : read.Asset!,
                        names.Read(reader, 1), names.Read(reader, 2), reader.GetDecimal(3));
                    if (rows == ChunkRows)
                    {
                        await chunks.Writer.WriteAsync(chunk, stop.Token);
                        chunk = new LayerPosting[ChunkRows];
                        rows = 0;
                    }
                }
                await chunks.Writer.WriteAsync(chunk.AsMemory(0, rows), stop.Token);
                chunks.Writer.Complete();
            }
            catch (Exception e)
            {
                chunks.Writer.Complete(e);
            }
        }, stop.Token);
        try
        {
            await foreach (var chunk in chunks.Reader.ReadAllAsync(ct))
            {
                yield return chunk;
            }
        }
        finally
        {
            // A reader that stops early stops the reading too, and the connection is closed only once it has.
            await stop.CancelAsync();
            await reading.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>Rows per chunk: its array stays below the large object heap's threshold (85,000 bytes).</summary>
    private const int ChunkRows = 1000;

    private const int ChunksAhead = 8;

    /// <summary>The first cash payment between two companies in the table (visible now or not), if any: its day and payer.</summary>
    public static async Task<FirstPayment?> FirstPaymentAsync(IDocumentStore store, CancellationToken ct)
    {
        var schema = store.Options.Events.DatabaseSchemaName;
        // The analysis index starts with (layer, effective_on): this walks it from the first cash entry to the first payment.
        var sql = $"""
            select effective_on, from_party from {schema}.{PostingsTable.Name}
            where layer = 'cash' and from_party <> @external and to_party <> @external
            order by effective_on
            limit 1
            """;
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.Add(new NpgsqlParameter("external", NpgsqlTypes.NpgsqlDbType.Text) { Value = Parties.External });
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct)
            ? new FirstPayment(LocalDate.FromDateOnly(reader.GetFieldValue<DateOnly>(0)), reader.GetString(1))
            : null;
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

/// <summary>
/// One visible posting of a layer as trace and loops follow it: its event, that event's global sequence, its deal,
/// and the posting's asset, parties and quantity, held here rather than in a <see cref="Posting"/>, which would be
/// one more object per row of a million. What a <see cref="LayerRead"/> did not ask for is left empty:
/// <see cref="Guid.Empty"/>, 0, null.
/// </summary>
public readonly record struct LayerPosting(
    Guid EventId, long Sequence, LocalDate EffectiveOn, string? DealId, string Asset, string From, string To, decimal Quantity)
{
    /// <summary>A posting of a folded event, as the projection would give it back.</summary>
    public LayerPosting(Guid eventId, long sequence, LocalDate effectiveOn, string? dealId, Posting posting)
        : this(eventId, sequence, effectiveOn, dealId, posting.Asset, posting.From, posting.To, posting.Quantity)
    {
    }
}

/// <summary>
/// What <see cref="PostingsQuery.LayerPostingChunksAsync"/> reads: the postings of a layer (of one asset, when given; between
/// companies only, when asked), each with its day, parties and quantity, and the <paramref name="Detail"/> asked for.
/// </summary>
public sealed record LayerRead(Layer Layer, string? Asset = null, bool CompaniesOnly = false, PostingDetail Detail = PostingDetail.None);

/// <summary>What a posting read for an analysis carries beyond its day, parties and quantity: each costs on a million rows.</summary>
[Flags]
public enum PostingDetail
{
    None = 0,
    EventId = 1,
    Sequence = 2,
    Deal = 4,
    Asset = 8,
    All = EventId | Sequence | Deal | Asset,
}

/// <summary>The ledger's first payment between two companies: its day, and the company that paid.</summary>
public sealed record FirstPayment(LocalDate Day, string Payer);
