using FlowLedger.Api.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;

namespace FlowLedger.Api.Ledger;

/// <summary>
/// The write path's own pool of connections. A command runs its read and its transaction on one of them, instead of
/// one connection for each, and hands it back without Npgsql's reset: a DISCARD ALL (seven statements while
/// statements were prepared) sent ahead of the next use, which PostgreSQL parsed and ran twice per command. The write
/// path leaves nothing in the session to reset — no SET, LISTEN, advisory lock or temporary table — while Wolverine
/// and Marten take session-level advisory locks on the shared pool, which is why only this pool skips the reset. Its
/// connections also prepare the statements they repeat, which PostgreSQL otherwise parsed and planned at every command:
/// about a quarter of its CPU per command, and P2's p99 under its target (docs/benchmarks.md); and they keep one plan
/// for each (<see cref="PlanCacheMode"/>).
/// </summary>
public sealed class LedgerWriterConnections(DatabaseLocator locator, IOptions<LimitOptions> limits)
{
    private readonly Lazy<string> _connectionString = new(() => ForWriters(locator.ConnectionString, limits.Value.TimeoutSeconds));

    public async Task<NpgsqlConnection> OpenAsync(CancellationToken ct)
    {
        var connection = new NpgsqlConnection(_connectionString.Value);
        try
        {
            await connection.OpenAsync(ct);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Statements a writer connection keeps prepared unless the connection string sets <c>Max Auto Prepare</c>.</summary>
    public const int AutoPrepared = 50;

    /// <summary>
    /// Uses of a statement on one connection before it is prepared, unless the connection string sets <c>Max Auto
    /// Prepare</c> (and with it this, or Npgsql's default of 5). The pool spreads the commands over its connections, so
    /// each of them parses a statement that many times first: with 5, preparing saved PostgreSQL a third as much CPU
    /// per command as with 2 in the benchmark.
    /// </summary>
    public const int UsesBeforePreparing = 2;

    /// <summary>
    /// The setting that makes a writer's prepared statements use one generic plan, unless the connection string's
    /// <c>Options</c> set it. PostgreSQL otherwise kept planning the write path's statements afresh at every execution
    /// (a custom plan, 0.2–0.25 ms of each bind on the 1,000,000-event store), as their array parameters made the generic
    /// plan look dearer to it; the generic plans are the same index lookups. That was a tenth of PostgreSQL's CPU per
    /// command, and the import is no slower (docs/benchmarks.md).
    /// </summary>
    public const string PlanCacheMode = "plan_cache_mode";

    /// <summary>
    /// Half the shared pool's size: writers on a few cores gain nothing from more connections, and the two pools
    /// together stay within the embedded cluster's 200 connections. A command waits for a connection as long as its
    /// request may last (<paramref name="requestSeconds"/>), whose timeout then ends the wait: it holds its one
    /// connection from its read to its commit, so under a backlog all its waiting is in this one checkout, and
    /// Npgsql's default of 15 s answered 503 where the shared pool's two short checkouts had carried it through.
    /// </summary>
    public static string ForWriters(string connectionString, int requestSeconds)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { NoResetOnClose = true };
        if (builder.MaxAutoPrepare == 0)
        {
            builder.MaxAutoPrepare = AutoPrepared;
            builder.AutoPrepareMinUsages = UsesBeforePreparing;
        }
        if (builder.Options?.Contains(PlanCacheMode, StringComparison.Ordinal) != true)
        {
            builder.Options = $"{builder.Options} -c {PlanCacheMode}=force_generic_plan".TrimStart();
        }
        builder.MaxPoolSize = Math.Max(2, builder.MaxPoolSize / 2);
        if (builder.Timeout is > 0 and var timeout && timeout < requestSeconds)
        {
            builder.Timeout = requestSeconds;
        }
        return builder.ConnectionString;
    }
}
