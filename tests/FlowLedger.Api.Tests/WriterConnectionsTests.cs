using FlowLedger.Api.Ledger;
using Npgsql;

namespace FlowLedger.Api.Tests;

/// <summary>
/// The write path's pool: no reset on return, statements prepared, half the shared pool's size, a wait for a
/// connection as long as a request may last, the rest as configured.
/// </summary>
public sealed class WriterConnectionsTests
{
    [Theory]
    [InlineData("Host=db;Database=flowledger;Username=app", 50, 50, 2, 30)]
    [InlineData("Host=db;Maximum Pool Size=20;Max Auto Prepare=10;Timeout=60", 10, 10, 5, 60)]
    [InlineData("Host=db;Max Auto Prepare=20;Auto Prepare Min Usages=3", 50, 20, 3, 30)]
    [InlineData("Host=db;Maximum Pool Size=3;Timeout=0", 2, 50, 2, 0)]
    public void Writers_skip_the_reset_prepare_take_half_the_pool_and_wait_as_long_as_a_request(
        string connectionString, int pool, int prepared, int usesBeforePreparing, int timeout)
    {
        var writers = new NpgsqlConnectionStringBuilder(LedgerWriterConnections.ForWriters(connectionString, requestSeconds: 30));

        Assert.True(writers.NoResetOnClose);
        Assert.Equal(pool, writers.MaxPoolSize);
        Assert.Equal(prepared, writers.MaxAutoPrepare);
        Assert.Equal(usesBeforePreparing, writers.AutoPrepareMinUsages);
        Assert.Equal(timeout, writers.Timeout);
        Assert.Equal("db", writers.Host);
    }
}
