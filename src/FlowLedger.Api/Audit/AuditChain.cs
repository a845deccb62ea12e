using FlowLedger.Api.Hosting;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Marten;
using Npgsql;
using NpgsqlTypes;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace FlowLedger.Api.Audit;

/// <summary>What verify found: every sealed event intact, or the first one that is not.</summary>
/// <param name="Checked">Events whose link was checked (all of them when the chain is intact).</param>
/// <param name="Pending">Events committed but not sealed yet (verify seals first, so only those committing meanwhile).</param>
/// <param name="Head">The hash of the last link: write it down, and a rewrite of the whole chain shows.</param>
public sealed record AuditReport(bool Ok, long Checked, long Pending, string? Head, long? FirstBrokenSequence = null, string? Problem = null);

/// <summary>
/// A SHA-256 chain over the events (SPEC §10): each committed event is sealed once, in the order
/// the sealer finds them — sequence order, except that an event which commits after later
/// sequence numbers were sealed (sequence numbers are drawn before commit) joins at the end. Link
/// k = SHA-256(link k−1 ‖ the event's canonical bytes), kept in <c>fl_audit_chain</c>. Any later
/// change to a sealed event, or its removal, breaks the chain at that event.
/// </summary>
public sealed class AuditChain(IDocumentStore store)
{
    public const string TableName = "fl_audit_chain";

    private const int Page = 10_000;

    /// <summary>
    /// How far below the highest sealed sequence the sealer looks for events that committed late:
    /// a transaction would have to stay open while this many later events commit to be missed.
    /// A process reads this many links back once, on its first round; later rounds look only at the
    /// gaps left within it.
    /// </summary>
    private const long LookBack = 100_000;

    private static readonly byte[] Genesis = new byte[32];

    /// <summary>
    /// What this process knows of the chain as of a position, published only once a round has committed, and never
    /// changed after: a later round copies it and catches up with what any sealer (this one, another node, the verify
    /// command) appended since. Null until the first round.
    /// </summary>
    private volatile KnownChain? _known;

    private sealed record KnownChain(long Position, SealedSequences Sealed);

    public static Table DefineTable(string schema)
    {
        var table = new Table(new PostgresqlObjectName(schema, TableName, SchemaUtils.IdentifierUsage.General));
        table.AddColumn<long>("position").AsPrimaryKey();
        table.AddColumn<long>("seq_id").NotNull();
        table.AddColumn("hash", "bytea").NotNull();
        table.Indexes.Add(new IndexDefinition("ux_fl_audit_chain_seq_id") { Columns = ["seq_id"], IsUnique = true });
        return table;
    }

    private string Schema => store.Options.Events.DatabaseSchemaName;

    /// <summary>Seals every committed event not sealed yet, in sequence order, after the last link.</summary>
    public async Task ExtendAsync(CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        // One sealer at a time, whichever node or command runs it.
        await connection.ScalarAsync<object>($"select pg_advisory_xact_lock(hashtext('{Schema}.{TableName}'))", ct);
        var (position, link) = await LastLinkAsync(connection, ct);
        try
        {
            var known = await CatchUpAsync(connection, position, ct);
            while (true)
            {
                var links = new List<(long Sequence, byte[] Hash)>();
                // Only the events past the highest sealed sequence and those in the gaps below it, each read in order from
                // the primary key, instead of probing the chain for every event of the last LookBack sequences.
                await using (var command = new NpgsqlCommand($"""
                    select * from (
                        ({EventColumns} e where e.seq_id > @cursor order by e.seq_id limit {Page})
                        union all
                        ({EventColumns} e where e.seq_id = any(@gaps) order by e.seq_id limit {Page})
                    ) e
                    order by e.seq_id limit {Page}
                    """, connection))
                {
                    command.Parameters.AddWithValue("cursor", known.Cursor);
                    command.Parameters.AddWithValue("gaps", known.Gaps.SelectMany(g => Enumerable.Range(0, (int)(g.Last - g.First + 1)).Select(i => g.First + i)).ToArray());
                    await using var reader = await command.ExecuteReaderAsync(ct);
                    while (await reader.ReadAsync(ct))
                    {
                        link = Link(link, reader);
                        links.Add((reader.GetInt64(0), link));
                    }
                }
                if (links.Count > 0)
                {
                    await WriteAsync(connection, position, links, ct);
                    position += links.Count;
                    links.ForEach(l => known.Seal(l.Sequence));
                }
                // A short page has sealed all that had committed: what commits meanwhile waits for the next round, rather
                // than keeping this transaction chasing a busy ledger's tail a few events at a time.
                if (links.Count < Page)
                {
                    break;
                }
            }
            known.ForgetUpTo(known.Cursor - LookBack);
            await transaction.CommitAsync(ct);
            _known = new KnownChain(position, known);
        }
        catch
        {
            // Should the record ever disagree with the chain (a second seal of an event fails on the unique index), the
            // next round reads the chain back instead of repeating the mistake.
            _known = null;
            throw;
        }
    }

    /// <summary>
    /// What is sealed up to <paramref name="position"/>: this process's own record, brought up to date with the links
    /// others appended since (the chain only grows, so they are the rows past the position it knew); or, on a first
    /// round, the sealed sequences of the last <see cref="LookBack"/> read back as the gaps between them.
    /// </summary>
    private async Task<SealedSequences> CatchUpAsync(NpgsqlConnection connection, long position, CancellationToken ct)
    {
        if (_known is { } known && known.Position <= position)
        {
            var sealedSince = known.Sealed.Copy();
            await using var command = new NpgsqlCommand($"select seq_id from {Schema}.{TableName} where position > @position order by position", connection);
            command.Parameters.AddWithValue("position", known.Position);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                sealedSince.Seal(reader.GetInt64(0));
            }
            return sealedSince;
        }

        var windowStart = Math.Max(0, (await connection.ScalarAsync<long?>($"select max(seq_id) from {Schema}.{TableName}", ct) ?? 0) - LookBack);
        var sealedSequences = new SealedSequences(windowStart);
        await using (var command = new NpgsqlCommand($"select seq_id from {Schema}.{TableName} where seq_id > @start order by seq_id", connection))
        {
            command.Parameters.AddWithValue("start", windowStart);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                sealedSequences.Seal(reader.GetInt64(0));
            }
        }
        return sealedSequences;
    }

    /// <summary>Seals what can be sealed, then recomputes every link from the stored events.</summary>
    public async Task<AuditReport> VerifyAsync(CancellationToken ct)
    {
        await ExtendAsync(ct);
        await using var connection = await OpenAsync(ct);
        await using var command = new NpgsqlCommand($"""
            select e.seq_id, e.id, e.stream_id, e.version, e.type, e.data::text, e.timestamp, e.user_name, c.seq_id, c.hash
            from {Schema}.{TableName} c
            left join {Schema}.mt_events e on e.seq_id = c.seq_id
            order by c.position
            """, connection);
        var previous = Genesis;
        long checkedCount = 0;
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                var broken = Check(reader, previous);
                if (broken is not null)
                {
                    return new AuditReport(false, checkedCount, 0, null, reader.GetInt64(8), broken);
                }
                previous = reader.GetFieldValue<byte[]>(9);
                checkedCount++;
            }
        }
        var pending = await connection.ScalarAsync<long>(
            $"select count(*) from {Schema}.mt_events e where not exists (select 1 from {Schema}.{TableName} c where c.seq_id = e.seq_id)", ct);
        return new AuditReport(true, checkedCount, pending, checkedCount == 0 ? null : Convert.ToHexStringLower(previous));
    }

    private static string? Check(NpgsqlDataReader row, byte[] previous)
    {
        if (row.IsDBNull(0))
        {
            return "This event was sealed in the chain and is no longer stored: it was deleted.";
        }
        return CryptographicOperations.FixedTimeEquals(Link(previous, row), row.GetFieldValue<byte[]>(9))
            ? null
            : "This event, or the chain's link before it, differs from what was sealed.";
    }

    private string EventColumns =>
        $"select e.seq_id, e.id, e.stream_id, e.version, e.type, e.data::text, e.timestamp, e.user_name from {Schema}.mt_events";

    /// <summary>
    /// SHA-256 of the previous link and the event's fields, each length-prefixed so no two events
    /// share bytes. The body is PostgreSQL's jsonb text, which is canonical (keys ordered, spacing
    /// fixed), so a dump and restore gives the same bytes.
    /// </summary>
    private static byte[] Link(byte[] previous, NpgsqlDataReader row)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(previous);
        AppendNumber(hash, row.GetInt64(0));
        AppendText(hash, row.GetGuid(1).ToString("D"));
        AppendText(hash, row.GetString(2));
        AppendNumber(hash, row.GetInt64(3));
        AppendText(hash, row.GetString(4));
        AppendText(hash, row.GetString(5));
        AppendNumber(hash, row.GetFieldValue<DateTimeOffset>(6).UtcTicks);
        AppendText(hash, row.IsDBNull(7) ? null : row.GetString(7));
        return hash.GetHashAndReset();
    }

    private static void AppendNumber(IncrementalHash hash, long value)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, value);
        hash.AppendData(bytes);
    }

    private static void AppendText(IncrementalHash hash, string? text)
    {
        var bytes = text is null ? [] : Encoding.UTF8.GetBytes(text);
        AppendNumber(hash, text is null ? -1 : bytes.Length);
        hash.AppendData(bytes);
    }

    private async Task<(long Position, byte[] Hash)> LastLinkAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand($"select position, hash from {Schema}.{TableName} order by position desc limit 1", connection);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? (reader.GetInt64(0), reader.GetFieldValue<byte[]>(1)) : (0, Genesis);
    }

    private async Task WriteAsync(NpgsqlConnection connection, long lastPosition, List<(long Sequence, byte[] Hash)> links, CancellationToken ct)
    {
        await using var import = await connection.BeginBinaryImportAsync($"copy {Schema}.{TableName} (position, seq_id, hash) from stdin (format binary)", ct);
        foreach (var (sequence, hash) in links)
        {
            await import.StartRowAsync(ct);
            await import.WriteAsync(++lastPosition, NpgsqlDbType.Bigint, ct);
            await import.WriteAsync(sequence, NpgsqlDbType.Bigint, ct);
            await import.WriteAsync(hash, NpgsqlDbType.Bytea, ct);
        }
        await import.CompleteAsync(ct);
    }

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken ct)
    {
        var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        return connection;
    }
}

/// <summary>
/// The sequences sealed into the chain, as the sealer needs them: everything up to <see cref="Cursor"/> except the
/// <see cref="Gaps"/>, the sequence numbers below it not sealed yet — drawn by a transaction still open, or by one
/// that rolled back and so will never commit.
/// </summary>
public sealed class SealedSequences
{
    private readonly List<(long First, long Last)> _gaps;

    /// <param name="cursor">Every sequence up to here counts as sealed.</param>
    public SealedSequences(long cursor) : this(cursor, []) { }

    private SealedSequences(long cursor, List<(long First, long Last)> gaps)
    {
        Cursor = cursor;
        _gaps = gaps;
    }

    /// <summary>The highest sequence sealed.</summary>
    public long Cursor { get; private set; }

    /// <summary>The unsealed ranges below <see cref="Cursor"/>, in order.</summary>
    public IReadOnlyList<(long First, long Last)> Gaps => _gaps;

    public SealedSequences Copy() => new(Cursor, [.. _gaps]);

    public void Seal(long sequence)
    {
        if (sequence > Cursor)
        {
            if (sequence > Cursor + 1)
            {
                _gaps.Add((Cursor + 1, sequence - 1));
            }
            Cursor = sequence;
            return;
        }
        var index = _gaps.FindIndex(g => g.First <= sequence && sequence <= g.Last);
        if (index < 0)
        {
            return;
        }
        var (first, last) = _gaps[index];
        _gaps.RemoveAt(index);
        if (sequence < last)
        {
            _gaps.Insert(index, (sequence + 1, last));
        }
        if (first < sequence)
        {
            _gaps.Insert(index, (first, sequence - 1));
        }
    }

    /// <summary>Gives up on the sequences up to <paramref name="sequence"/>: a transaction that held one open this long is taken as rolled back.</summary>
    public void ForgetUpTo(long sequence)
    {
        _gaps.RemoveAll(g => g.Last <= sequence);
        if (_gaps.Count > 0 && _gaps[0].First <= sequence)
        {
            _gaps[0] = (sequence + 1, _gaps[0].Last);
        }
    }
}
