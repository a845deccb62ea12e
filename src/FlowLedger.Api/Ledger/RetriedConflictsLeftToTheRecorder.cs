using Marten;
using Marten.Services;
using Npgsql;

namespace FlowLedger.Api.Ledger;

/// <summary>
/// The recorder's session logger: Marten logs every failed statement as an error, with its parameters, but a write
/// conflict is how the recorder learns that another writer got there first (or that what it knew was stale), and it
/// decides again. Those the recorder logs itself; every other failure goes to Marten's own logger unchanged.
/// </summary>
public sealed class RetriedConflictsLeftToTheRecorder(IMartenSessionLogger inner) : IMartenSessionLogger
{
    public void LogSuccess(NpgsqlCommand command) => inner.LogSuccess(command);

    public void LogSuccess(NpgsqlBatch batch) => inner.LogSuccess(batch);

    public void LogFailure(NpgsqlCommand command, Exception ex)
    {
        if (!IsRetried(ex))
        {
            inner.LogFailure(command, ex);
        }
    }

    public void LogFailure(NpgsqlBatch batch, Exception ex)
    {
        if (!IsRetried(ex))
        {
            inner.LogFailure(batch, ex);
        }
    }

    public void LogFailure(Exception ex, string message)
    {
        if (!IsRetried(ex))
        {
            inner.LogFailure(ex, message);
        }
    }

    public void RecordSavedChanges(IDocumentSession session, IChangeSet commit) => inner.RecordSavedChanges(session, commit);

    public void OnBeforeExecute(NpgsqlCommand command) => inner.OnBeforeExecute(command);

    public void OnBeforeExecute(NpgsqlBatch batch) => inner.OnBeforeExecute(batch);

    // The recorder logs each conflict it retries at debug, and the last one, when it gives up, as a warning.
    private static bool IsRetried(Exception ex) => LedgerRecorder.IsWriteConflict(ex);
}
