using System.Diagnostics;
using FlowLedger.Api.Ledger;
using FlowLedger.Api.Tests.Fixtures;
using FlowLedger.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace FlowLedger.Api.Tests;

/// <summary>
/// The daemon's wake-up keeps a NOTIFY that arrives while the high-water agent is busy, so the commit it announces is
/// looked at once the agent waits again, not at the next NOTIFY or poll; it keeps one, however many arrive; and a broken
/// listening connection wakes the agent and is listened on again.
/// </summary>
public sealed class ListenWakeupTests(PostgresServer server) : IAsyncLifetime
{
    private const string Channel = "ledger_appended";

    /// <summary>Long enough that a wait which ended on its timeout cannot be mistaken for one that was woken.</summary>
    private static readonly TimeSpan AgentTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Far more than a NOTIFY takes to reach a listener on the same machine.</summary>
    private static readonly TimeSpan Busy = TimeSpan.FromMilliseconds(500);

    private string _connectionString = "";
    private NpgsqlDataSource _dataSource = null!;
    private ListenWakeup _wakeup = null!;

    public async ValueTask InitializeAsync()
    {
        _connectionString = await server.CreateDatabaseAsync();
        _dataSource = NpgsqlDataSource.Create(_connectionString);
        _wakeup = new ListenWakeup(_dataSource, Channel, NullLogger.Instance);
        // The agent's first wait starts listening; nothing wakes it.
        await _wakeup.WaitAsync(TimeSpan.FromMilliseconds(100), TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task A_notify_that_arrives_while_the_agent_is_busy_wakes_its_next_wait_at_once()
    {
        await NotifyAsync(times: 1);
        await Task.Delay(Busy, TestContext.Current.CancellationToken);

        await WokenAsync();
    }

    [Fact]
    public async Task Many_notifies_while_the_agent_is_busy_wake_it_once()
    {
        await NotifyAsync(times: 5);
        await Task.Delay(Busy, TestContext.Current.CancellationToken);

        await WokenAsync();
        var second = Stopwatch.StartNew();
        await _wakeup.WaitAsync(TimeSpan.FromMilliseconds(300), TestContext.Current.CancellationToken);
        Assert.True(second.Elapsed >= TimeSpan.FromMilliseconds(250), $"The second wait was woken after {second.Elapsed.TotalMilliseconds:F0} ms with nothing new.");
    }

    [Fact]
    public async Task A_broken_listening_connection_wakes_the_agent_and_is_listened_on_again()
    {
        var terminated = await Sql.ScalarAsync<long>(_connectionString,
            "select count(pg_terminate_backend(pid)) from pg_stat_activity where datname = current_database() and query ilike 'listen%'");
        Assert.Equal(1, terminated);

        await WokenAsync();
        // This wait listens again, and times out: the break kept one wake-up only.
        await _wakeup.WaitAsync(TimeSpan.FromMilliseconds(100), TestContext.Current.CancellationToken);
        await NotifyAsync(times: 1);
        await Task.Delay(Busy, TestContext.Current.CancellationToken);

        await WokenAsync();
    }

    /// <summary>The agent's next wait returns long before its timeout.</summary>
    private async Task WokenAsync() =>
        await _wakeup.WaitAsync(AgentTimeout, TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

    private async Task NotifyAsync(int times)
    {
        for (var i = 0; i < times; i++)
        {
            await Sql.ScalarAsync<object>(_connectionString, $"notify {Channel}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        _wakeup.Dispose();
        await _dataSource.DisposeAsync();
    }
}
