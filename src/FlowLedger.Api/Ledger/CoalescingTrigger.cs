namespace FlowLedger.Api.Ledger;

/// <summary>
/// Runs an action after signals, one run at a time and at most one per <c>spacing</c>, until a run has started after
/// every signal given: signals that come while a run is under way or spacing out share the next run. The action
/// handles its own failures; an exception out of it would stop the runs for good.
/// </summary>
public sealed class CoalescingTrigger(Func<Task> action, TimeSpan spacing)
{
    /// <summary>Signals that no run started after them covers yet.</summary>
    private int _uncovered;

    private Task _running = Task.CompletedTask;

    /// <summary>Completes once the runs under way when read have covered every signal so far.</summary>
    public Task Idle => Volatile.Read(ref _running);

    public void Signal()
    {
        if (Interlocked.Increment(ref _uncovered) == 1)
        {
            Volatile.Write(ref _running, Task.Run(RunUntilCoveredAsync));
        }
    }

    private async Task RunUntilCoveredAsync()
    {
        // Read before the run starts: every signal counted here came before it, so the run covers them.
        var covered = Volatile.Read(ref _uncovered);
        do
        {
            await action();
            await Task.Delay(spacing);
        }
        while ((covered = Interlocked.Add(ref _uncovered, -covered)) > 0);
    }
}
