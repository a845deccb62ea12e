using FlowLedger.Api.Ledger;
using Npgsql;

namespace FlowLedger.Api.Tests;

/// <summary>The store's connections prepare repeated statements, unless the connection string says otherwise.</summary>
public sealed class PreparedStatementsTests
{
    [Fact]
    public void A_connection_string_without_the_setting_gets_automatic_preparation()
    {
        var prepared = new NpgsqlConnectionStringBuilder(LedgerStore.WithPreparedStatements("Host=db;Database=flowledger;Username=app"));

        Assert.Equal(64, prepared.MaxAutoPrepare);
        Assert.Equal("db", prepared.Host);
        Assert.Equal("flowledger", prepared.Database);
    }

    [Theory]
    [InlineData("Host=db;Max Auto Prepare=0", 0)]
    [InlineData("Host=db;MaxAutoPrepare=10", 10)]
    [InlineData("Host=db;max auto prepare=5", 5)]
    public void A_value_the_connection_string_sets_is_kept(string connectionString, int expected) =>
        Assert.Equal(expected, new NpgsqlConnectionStringBuilder(LedgerStore.WithPreparedStatements(connectionString)).MaxAutoPrepare);
}
