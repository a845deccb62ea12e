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
/// <param name="Pending">Events recorded after the chain's end, not sealed yet.</param>
/// <param name="Head">The hash of the last link: write it down, and a rewrite of the whole chain shows.</param>
public sealed record AuditReport(bool Ok, long Checked, long Pending, string? Head, long? FirstBrokenSequence = null, string? Problem = null);

/// <summary>
/// A SHA-256 chain over the events in global sequence order (SPEC §10): the link of event n is
/// SHA-256(link of n−1 ‖ the event's canonical bytes), kept in <c>fl_audit_chain</c>. Links are
/// added after the events commit (see <see cref="ExtendAsync"/>), so any later change to a sealed
/// event, its removal or an event slipped in among sealed ones breaks the chain at that event.
/// </summary>
public sealed class AuditChain(IDocumentStore store, ILogger<AuditChain> logger)
{
    public const string TableName = "fl_audit_chain";

    private const int Page = 10_000;

    /// <summary>How long <see cref="ExtendAsync"/> waits for the writers of already drawn sequence numbers to finish.</summary>
    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(30);

    private static readonly byte[] Genesis = new byte[32];

    public static Table DefineTable(string schema)
    {
        var table = new Table(new PostgresqlObjectName(schema, TableName, SchemaUtils.IdentifierUsage.General));
        table.AddColumn<long>("seq_id").AsPrimaryKey();
        table.AddColumn("hash", "bytea").NotNull();
        return table;
    }

    private string Schema => store.Options.Events.DatabaseSchemaName;

    /// <summary>
    /// Seals every event that can no longer change its place in the sequence. Sequence numbers are
    /// drawn before their events commit, so the chain may only pass a number once its writer has
    /// committed or rolled back. When the sequence stood at N, every writer of a number up to N was
    /// either in the middle of the statement that drew it, or already had a transaction id (the
    /// statement that draws also inserts). Once those statements and transactions have ended, each
    /// event up to N is committed or never will be, and the chain passes over the holes of
    /// rolled-back writes.
    /// </summary>
    /// <returns>The sequence the chain is sealed up to.</returns>
    public async Task<long> ExtendAsync(CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        var ceiling = await ScalarAsync<long>(connection,
            $"select case when is_called then last_value else 0 end from {Schema}.mt_events_sequence", ct);
        var (pids, starts) = await RunningStatementsAsync(connection, ct);
        var fence = await ScalarAsync<long>(connection, "select pg_snapshot_xmax(pg_current_snapshot())::text::bigint", ct);
        var settled = DateTime.UtcNow + SettleTimeout;
        while (!await WritersEndedAsync(connection, fence, pids, starts, ct))
        {
            if (DateTime.UtcNow > settled)
            {
                logger.LogWarning("The audit chain waits for a transaction that has run for over {Seconds} s; sealing later", SettleTimeout.TotalSeconds);
                return await SealedUpToAsync(connection, ct);
            }
            await Task.Delay(20, ct);
        }

        await using var transaction = await connection.BeginTransactionAsync(ct);
        // One sealer at a time, whichever node or command runs it.
        await ScalarAsync<object>(connection, $"select pg_advisory_xact_lock(hashtext('{Schema}.{TableName}'))", ct);
        var (last, link) = await LastLinkAsync(connection, ct);
        while (last < ceiling)
        {
            var links = new List<(long Sequence, byte[] Hash)>();
            await using (var command = new NpgsqlCommand(
                $"{EventColumns} where seq_id > @after and seq_id <= @ceiling order by seq_id limit {Page}", connection))
            {
                command.Parameters.AddWithValue("after", last);
                command.Parameters.AddWithValue("ceiling", ceiling);
                await using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    link = Link(link, reader);
                    links.Add((reader.GetInt64(0), link));
                }
            }
            if (links.Count == 0)
            {
                break;
            }
            await WriteAsync(connection, links, ct);
            last = links[^1].Sequence;
        }
        await transaction.CommitAsync(ct);
        return last;
    }

    /// <summary>Seals what can be sealed, then recomputes every link from the stored events.</summary>
    public async Task<AuditReport> VerifyAsync(CancellationToken ct)
    {
        var sealedUpTo = await ExtendAsync(ct);
        await using var connection = await OpenAsync(ct);
        await using var command = new NpgsqlCommand($"""
            select e.seq_id, e.id, e.stream_id, e.version, e.type, e.data::text, e.timestamp, e.user_name, c.seq_id, c.hash
            from {Schema}.mt_events e
            full join {Schema}.{TableName} c on c.seq_id = e.seq_id
            where coalesce(e.seq_id, c.seq_id) <= @sealed
            order by coalesce(e.seq_id, c.seq_id)
            """, connection);
        command.Parameters.AddWithValue("sealed", sealedUpTo);
        var previous = Genesis;
        long checkedCount = 0;
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                var broken = Check(reader, previous);
                if (broken is not null)
                {
                    return new AuditReport(false, checkedCount, 0, null, reader.IsDBNull(0) ? reader.GetInt64(8) : reader.GetInt64(0), broken);
                }
                previous = reader.GetFieldValue<byte[]>(9);
                checkedCount++;
            }
        }
        var pending = await ScalarAsync<long>(connection, $"select count(*) from {Schema}.mt_events where seq_id > {sealedUpTo}", ct);
        return new AuditReport(true, checkedCount, pending, checkedCount == 0 ? null : Convert.ToHexStringLower(previous));
    }

    private static string? Check(NpgsqlDataReader row, byte[] previous)
    {
        if (row.IsDBNull(8))
        {
            return "This event is not in the chain: it was inserted among events already sealed.";
        }
        if (row.IsDBNull(0))
        {
            return "This event was sealed in the chain and is no longer stored: it was deleted.";
        }
        return CryptographicOperations.FixedTimeEquals(Link(previous, row), row.GetFieldValue<byte[]>(9))
            ? null
            : "This event, or the chain's link before it, differs from what was sealed.";
    }

    private string EventColumns =>
        $"select seq_id, id, stream_id, version, type, data::text, timestamp, user_name from {Schema}.mt_events";

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

    private async Task<(long Sequence, byte[] Hash)> LastLinkAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand($"select seq_id, hash from {Schema}.{TableName} order by seq_id desc limit 1", connection);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? (reader.GetInt64(0), reader.GetFieldValue<byte[]>(1)) : (0, Genesis);
    }

    private static async Task<(int[] Pids, DateTime[] Starts)> RunningStatementsAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("""
            select pid, xact_start from pg_stat_activity
            where datname = current_database() and state = 'active' and xact_start is not null and pid <> pg_backend_pid()
            """, connection);
        var (pids, starts) = (new List<int>(), new List<DateTime>());
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            pids.Add(reader.GetInt32(0));
            starts.Add(reader.GetDateTime(1));
        }
        return (pids.ToArray(), starts.ToArray());
    }

    /// <summary>Whether every transaction older than <paramref name="fence"/>, and every statement seen running, has ended.</summary>
    private static async Task<bool> WritersEndedAsync(NpgsqlConnection connection, long fence, int[] pids, DateTime[] starts, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("""
            select pg_snapshot_xmin(pg_current_snapshot())::text::bigint >= @fence
               and not exists (select 1 from unnest(@pids, @starts) seen(pid, started)
                               join pg_stat_activity a on a.pid = seen.pid and a.xact_start = seen.started)
            """, connection);
        command.Parameters.AddWithValue("fence", fence);
        command.Parameters.AddWithValue("pids", pids);
        command.Parameters.AddWithValue("starts", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz, starts);
        return (bool)(await command.ExecuteScalarAsync(ct))!;
    }

    private async Task<long> SealedUpToAsync(NpgsqlConnection connection, CancellationToken ct) =>
        await ScalarAsync<long?>(connection, $"select max(seq_id) from {Schema}.{TableName}", ct) ?? 0;

    private async Task WriteAsync(NpgsqlConnection connection, List<(long Sequence, byte[] Hash)> links, CancellationToken ct)
    {
        await using var import = await connection.BeginBinaryImportAsync($"copy {Schema}.{TableName} (seq_id, hash) from stdin (format binary)", ct);
        foreach (var (sequence, hash) in links)
        {
            await import.StartRowAsync(ct);
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

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync(ct);
        return value is DBNull ? default! : (T)value!;
    }
}
