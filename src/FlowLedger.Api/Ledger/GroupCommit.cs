using System.Threading.Channels;
using FlowLedger.Api.Hosting;
using Npgsql;

namespace FlowLedger.Api.Ledger;

/// <summary>
/// Records the single commands that arrive together in one transaction each time, instead of one transaction per
/// command. A transaction's fixed costs — the reads before deciding, the statements parsed and planned, the round
/// trips, the commit's flush of the WAL — are then paid once per group, which is what lets two cores keep up with
/// hundreds of commands a second. Each command is still decided as if it came alone: one that breaks a rule is
/// refused without holding back the others (<see cref="LedgerRecorder.RecordEachAsync"/>). Nothing waits to fill a
/// group: when the writer is free it takes a lone command at once, and the commands that arrive while it is busy form
/// the next group. One writer, one transaction at a time: with a second, groups were smaller and PostgreSQL spent a
/// fifth more CPU per command at 500 commands/s, for no gain in latency (docs/benchmarks.md).
/// </summary>
public sealed class GroupCommit(LedgerRecorder recorder, RecorderMetrics metrics, ILogger<GroupCommit> logger) : BackgroundService
{
    /// <summary>Commands in one transaction at most, so a burst does not make one transaction that holds its locks long.</summary>
    private const int MaxGroup = 64;

    private sealed record Waiting(PendingEntry Entry, string RecordedBy, CancellationToken Abandoned)
    {
        public TaskCompletionSource<RecordOutcome> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private readonly Channel<Waiting> _queue = Channel.CreateUnbounded<Waiting>();

    /// <summary>
    /// Records one command with whatever others are waiting. A caller that gives up before its command is taken
    /// leaves nothing written; after that, the command is recorded or refused whether or not anyone still waits.
    /// </summary>
    public async Task<RecordOutcome> RecordAsync(PendingEntry entry, string recordedBy, CancellationToken ct)
    {
        var waiting = new Waiting(entry, recordedBy, ct);
        if (!_queue.Writer.TryWrite(waiting))
        {
            throw new OperationCanceledException("The server is stopping; the command was not recorded.");
        }
        return await waiting.Outcome.Task.WaitAsync(ct);
    }

    /// <summary>
    /// Takes no more commands, then records those already waiting before it stops. The web server stops first (hosted
    /// services registered by the app stop after it), so every request it let finish has had its command taken.
    /// </summary>
    public override Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        return base.StopAsync(cancellationToken);
    }

    /// <summary>The writer: runs until <see cref="StopAsync"/> has closed the queue and what was queued is recorded.</summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var carried = new List<Waiting>();
        while (carried.Count > 0 || await _queue.Reader.WaitToReadAsync())
        {
            var group = NextGroup(carried);
            if (group.Count > 0)
            {
                metrics.Grouped(group.Count);
                await RecordAsync(group);
            }
        }
    }

    /// <summary>
    /// The commands carried over from the last group, then whatever is queued, up to <see cref="MaxGroup"/>. One
    /// transaction records for one author, and two commands with the same idempotency key must come one after the
    /// other (the second is then answered as a replay of the first): those wait in <paramref name="carried"/>.
    /// </summary>
    private List<Waiting> NextGroup(List<Waiting> carried)
    {
        var candidates = new List<Waiting>(carried);
        carried.Clear();
        while (candidates.Count < MaxGroup && _queue.Reader.TryRead(out var queued))
        {
            candidates.Add(queued);
        }

        var group = new List<Waiting>();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var waiting in candidates)
        {
            if (waiting.Abandoned.IsCancellationRequested)
            {
                waiting.Outcome.TrySetCanceled(waiting.Abandoned);
            }
            else if (group.Count > 0 && waiting.RecordedBy != group[0].RecordedBy
                     || waiting.Entry.Idempotency is { } claim && !keys.Add(claim.Key))
            {
                carried.Add(waiting);
            }
            else
            {
                group.Add(waiting);
            }
        }
        return group;
    }

    private async Task RecordAsync(List<Waiting> group)
    {
        try
        {
            // Not cancelled by any one caller: the group is recorded for all of them, within the database's own timeouts.
            var outcomes = await recorder.RecordEachAsync(group.Select(w => w.Entry).ToList(), group[0].RecordedBy, CancellationToken.None);
            foreach (var (waiting, outcome) in group.Zip(outcomes))
            {
                waiting.Outcome.TrySetResult(outcome);
            }
        }
        catch (Exception ex) when (group.Count > 1 && ex.FindInner<NpgsqlException>() is not { IsTransient: true })
        {
            // One command must not fail the others: each goes again alone. A database that is away fails them all at once.
            logger.LogWarning(ex, "A group of {Commands} commands failed; recording each alone", group.Count);
            foreach (var waiting in group)
            {
                await RecordAsync([waiting]);
            }
        }
        catch (Exception ex)
        {
            group.ForEach(waiting => waiting.Outcome.TrySetException(ex));
        }
    }
}
