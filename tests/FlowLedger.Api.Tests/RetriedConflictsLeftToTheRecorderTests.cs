using FlowLedger.Api.Ledger;
using Marten;
using Marten.Services;
using Npgsql;

namespace FlowLedger.Api.Tests;

/// <summary>
/// The recorder's sessions keep the write conflicts it retries out of Marten's error log, where every stale guess and
/// every lost race would otherwise show as a failure; any other failure still reaches it.
/// </summary>
public sealed class RetriedConflictsLeftToTheRecorderTests
{
    private readonly FailuresSeen _marten = new();

    [Fact]
    public void A_write_conflict_the_recorder_retries_does_not_reach_martens_log()
    {
        var logger = new RetriedConflictsLeftToTheRecorder(_marten);
        var conflict = new PostgresException("duplicate key value violates unique constraint \"pk_mt_streams\"", "ERROR", "ERROR", PostgresErrorCodes.UniqueViolation);

        logger.LogFailure(new NpgsqlBatch(), conflict);
        logger.LogFailure(new NpgsqlCommand(), conflict);
        logger.LogFailure(new InvalidOperationException("wrapped", conflict), "a failed save");

        Assert.Empty(_marten.Failures);
    }

    [Fact]
    public void Any_other_failure_reaches_martens_log()
    {
        var logger = new RetriedConflictsLeftToTheRecorder(_marten);
        var failure = new PostgresException("division by zero", "ERROR", "ERROR", PostgresErrorCodes.DivisionByZero);

        logger.LogFailure(new NpgsqlBatch(), failure);
        logger.LogFailure(new NpgsqlCommand(), failure);
        logger.LogFailure(new TimeoutException(), "a failed save");

        Assert.Equal(3, _marten.Failures.Count);
    }

    private sealed class FailuresSeen : IMartenSessionLogger
    {
        public List<Exception> Failures { get; } = [];

        public void LogSuccess(NpgsqlCommand command) { }

        public void LogSuccess(NpgsqlBatch batch) { }

        public void LogFailure(NpgsqlCommand command, Exception ex) => Failures.Add(ex);

        public void LogFailure(NpgsqlBatch batch, Exception ex) => Failures.Add(ex);

        public void LogFailure(Exception ex, string message) => Failures.Add(ex);

        public void RecordSavedChanges(IDocumentSession session, IChangeSet commit) { }

        public void OnBeforeExecute(NpgsqlCommand command) { }

        public void OnBeforeExecute(NpgsqlBatch batch) { }
    }
}
