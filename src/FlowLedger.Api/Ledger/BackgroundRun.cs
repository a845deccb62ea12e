namespace FlowLedger.Api.Ledger;

/// <summary>
/// Upkeep that a bulk write starts and does not wait for: one run at a time, and a start while one is under way joins
/// it rather than queuing another, as the run looks at the database as it is when it starts.
/// </summary>
public sealed class BackgroundRun(Func<Task> work)
{
    private readonly Lock _starting = new();
    private Task _run = Task.CompletedTask;

    /// <summary>Starts the work unless it is under way, and answers that run.</summary>
    public Task Start()
    {
        lock (_starting)
        {
            if (_run.IsCompleted)
            {
                _run = Task.Run(work);
            }
            return _run;
        }
    }
}
