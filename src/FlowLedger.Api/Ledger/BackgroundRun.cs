namespace FlowLedger.Api.Ledger;

/// <summary>
/// Upkeep that a bulk write starts and does not wait for: one run at a time, and a start while one is under way joins
/// it rather than queuing another, as the run looks at the database as it is when it starts.
/// </summary>
public sealed class BackgroundRun
{
    private readonly Lock _starting = new();
    private Task _run = Task.CompletedTask;

    /// <summary>
    /// Starts <paramref name="work"/> unless a run is under way, and answers that run. The run never fails: what goes
    /// wrong is handed to <paramref name="failed"/>, and the next start tries again.
    /// </summary>
    public Task Start(Func<Task> work, Action<Exception> failed)
    {
        lock (_starting)
        {
            if (_run.IsCompleted)
            {
                _run = Task.Run(async () =>
                {
                    try
                    {
                        await work();
                    }
                    catch (Exception ex)
                    {
                        failed(ex);
                    }
                });
            }
            return _run;
        }
    }
}
