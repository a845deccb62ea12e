using FlowLedger.Api.Ledger;
using FlowLedger.Api.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace FlowLedger.Api.Tests;

/// <summary>
/// The write path's pool: no reset on return, statements prepared and planned once, half the shared pool's size, a
/// wait for a connection as long as a request may last, the rest as configured.
/// </summary>
public sealed class WriterConnectionsTests(AppFixture app) : IClassFixture<AppFixture>
{
    private const string GenericPlans = "-c plan_cache_mode=force_generic_plan";

    [Theory]
    [InlineData("Host=db;Database=flowledger;Username=app", 50, 50, 2, 30, GenericPlans)]
    [InlineData("Host=db;Maximum Pool Size=20;Max Auto Prepare=10;Timeout=60", 10, 10, 5, 60, GenericPlans)]
    [InlineData("Host=db;Max Auto Prepare=20;Auto Prepare Min Usages=3", 50, 20, 3, 30, GenericPlans)]
    [InlineData("Host=db;Maximum Pool Size=3;Timeout=0", 2, 50, 2, 0, GenericPlans)]
    [InlineData("Host=db;Options=-c statement_timeout=5s", 50, 50, 2, 30, "-c statement_timeout=5s " + GenericPlans)]
    [InlineData("Host=db;Options=-c plan_cache_mode=auto", 50, 50, 2, 30, "-c plan_cache_mode=auto")]
    public void Writers_skip_the_reset_prepare_plan_once_take_half_the_pool_and_wait_as_long_as_a_request(
        string connectionString, int pool, int prepared, int usesBeforePreparing, int timeout, string options)
    {
        var writers = new NpgsqlConnectionStringBuilder(LedgerWriterConnections.ForWriters(connectionString, requestSeconds: 30));

        Assert.True(writers.NoResetOnClose);
        Assert.Equal(pool, writers.MaxPoolSize);
        Assert.Equal(prepared, writers.MaxAutoPrepare);
        Assert.Equal(usesBeforePreparing, writers.AutoPrepareMinUsages);
        Assert.Equal(timeout, writers.Timeout);
        Assert.Equal(options, writers.Options);
        Assert.Equal("db", writers.Host);
    }

    [Fact]
    public async Task A_writer_connection_keeps_generic_plans_while_the_shared_pool_keeps_the_servers_default()
    {
        await using var writer = await app.Host.Services.GetRequiredService<LedgerWriterConnections>().OpenAsync(TestContext.Current.CancellationToken);
        await using var show = new NpgsqlCommand($"show {LedgerWriterConnections.PlanCacheMode}", writer);
        Assert.Equal("force_generic_plan", await show.ExecuteScalarAsync(TestContext.Current.CancellationToken));

        Assert.Equal("auto", await Sql.ScalarAsync<string>(app.ConnectionString, $"show {LedgerWriterConnections.PlanCacheMode}"));
    }
}
