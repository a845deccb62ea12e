using FlowLedger.Api.Ledger;
using Npgsql;

namespace FlowLedger.Api.Tests;

/// <summary>The write path's pool: no reset on return, half the shared pool's size, the rest as configured.</summary>
public sealed class WriterConnectionsTests
{
    [Theory]
    [InlineData("Host=db;Database=flowledger;Username=app", 50, 0)]
    [InlineData("Host=db;Maximum Pool Size=20;Max Auto Prepare=10", 10, 10)]
    [InlineData("Host=db;Maximum Pool Size=3", 2, 0)]
    public void Writers_skip_the_reset_and_take_half_the_pool(string connectionString, int pool, int prepared)
    {
        var writers = new NpgsqlConnectionStringBuilder(LedgerWriterConnections.ForWriters(connectionString));

        Assert.True(writers.NoResetOnClose);
        Assert.Equal(pool, writers.MaxPoolSize);
        Assert.Equal(prepared, writers.MaxAutoPrepare);
        Assert.Equal("db", writers.Host);
    }
}
