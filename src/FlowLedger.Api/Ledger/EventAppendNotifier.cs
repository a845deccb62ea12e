using FlowLedger.Api.Hosting;
using JasperFx.Events.Daemon.HighWater;
using Marten.Events.Daemon.HighWater;
using Npgsql;

namespace FlowLedger.Api.Ledger;

/// <summary>
/// Wakes Marten's async daemon, on whichever node runs it, once the ledger has committed new events, so the live feed
/// does not wait for the daemon's next poll. Marten's own switch for this (<c>UseListenNotifyForEventAppends</c>) adds
/// a <c>DO</c> block calling <c>pg_notify</c> to every appending transaction: PostgreSQL compiled that PL/pgSQL block
/// for every command, and a transaction that notifies holds a database-wide lock from before its commit record until
/// after its flush, so the commands' commits queued behind each other. Here the NOTIFY goes out after the commit, on a
/// connection of its own, at most one per <see cref="Spacing"/>: the daemon reads whatever has committed when it wakes,
/// so under load one wake-up per batch of commits is all it needs, and every wake-up costs a page (its progress, its
/// reads, its FeedAdvanced to every node). Should a NOTIFY be lost (the process ends right after a commit, the database
/// is unreachable), the daemon still finds the events at its next poll.
/// </summary>
public sealed class EventAppendNotifier : IAsyncDisposable
{
    private readonly NpgsqlDataSource _listening;
    private readonly NpgsqlDataSource _notifying;
    private readonly ListenWakeup _wakeup;
    private readonly ILogger<EventAppendNotifier> _logger;

    /// <summary>
    /// The least time between two NOTIFYs. The first commit after a quiet spell is announced at once; under load the
    /// commits of this long share one. Sent after every commit, at 250 commands/s the daemon made 1,144 pages in 15 s.
    /// Measured at 20, 50 and 100 ms once commands were grouped (docs/benchmarks.md): 50 ms cut the commit → SSE p99 at
    /// 200 commands/s from 240–255 to 150–195 ms, as fewer pages left the cores less busy; 100 ms did no better, and no
    /// spacing can be near the 100 ms target, as an event may wait all of it.
    /// </summary>
    private static readonly TimeSpan Spacing = TimeSpan.FromMilliseconds(50);

    /// <summary>Sends the NOTIFYs: one after every commit announced, <see cref="Spacing"/> apart at the least.</summary>
    private readonly CoalescingTrigger _notify;

    public EventAppendNotifier(DatabaseLocator locator, ILogger<EventAppendNotifier> logger)
    {
        _logger = logger;
        _listening = NpgsqlDataSource.Create(locator.ConnectionString);
        // The NOTIFY leaves nothing in the session, so its connection goes back without Npgsql's reset (a DISCARD ALL
        // before every reuse); the listening connection keeps the reset, as it holds a LISTEN.
        _notifying = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(locator.ConnectionString) { NoResetOnClose = true, MaxPoolSize = 1 }.ConnectionString);
        _wakeup = new ListenWakeup(_listening, PostgresqlListenWakeup.DefaultChannel, logger);
        _notify = new CoalescingTrigger(NotifyAsync, Spacing);
    }

    /// <summary>What the daemon waits on between polls: the channel this notifier notifies.</summary>
    public IDaemonWakeup Wakeup => _wakeup;

    /// <summary>Called once a transaction that appended events has committed.</summary>
    public void EventsCommitted() => _notify.Signal();

    private async Task NotifyAsync()
    {
        try
        {
            await using var command = _notifying.CreateCommand($"notify {PostgresqlListenWakeup.DefaultChannel}");
            await command.ExecuteNonQueryAsync();
        }
        catch (Exception ex)
        {
            // Nothing waits on this NOTIFY: whatever failed, the daemon's poll finds the events a little later.
            _logger.LogWarning(ex, "Could not notify that events were appended; the daemon finds them at its next poll");
        }
    }

    public async ValueTask DisposeAsync()
    {
        // A command-line import ends right after its last commit: let that commit's NOTIFY go out first.
        await _notify.Idle;
        _wakeup.Dispose();
        await _notifying.DisposeAsync();
        await _listening.DisposeAsync();
    }
}
