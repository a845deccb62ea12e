using JasperFx.Events.Daemon.HighWater;
using Npgsql;

namespace FlowLedger.Api.Ledger;

/// <summary>
/// What the async daemon's high-water agent waits on between its detections: a NOTIFY on <c>channel</c>, or the
/// agent's own timeout. A NOTIFY that arrives while the agent is busy is kept for its next wait, which then returns at
/// once. The commit it announces may have landed after the busy detection looked, and Marten's own
/// <c>PostgresqlListenWakeup</c> drops such NOTIFYs before it waits: the events then sat until the next NOTIFY (up to
/// the recorder's 50 ms spacing under load) or the agent's next poll (up to 1 s on a quiet ledger). However many
/// NOTIFYs arrive meanwhile, only one wake-up is kept, as one detection covers them all.
/// </summary>
public sealed class ListenWakeup(NpgsqlDataSource dataSource, string channel, ILogger logger) : IDaemonWakeup
{
    /// <summary>Count 1 while a NOTIFY is waiting for the agent's next wait, else 0.</summary>
    private readonly SemaphoreSlim _notified = new(0, 1);

    private readonly SemaphoreSlim _connecting = new(1, 1);
    private readonly CancellationTokenSource _lifetime = new();
    private NpgsqlConnection? _listening;
    private readonly Lock _keeping = new();

    /// <summary>
    /// Waits for a NOTIFY or the timeout. While the database is away this throws, as it cannot listen: the agent logs
    /// that and waits out the timeout itself, and a later wait listens again.
    /// </summary>
    public async Task WaitAsync(TimeSpan timeout, CancellationToken token)
    {
        await ListenAsync(token);
        await _notified.WaitAsync(timeout, token);
    }

    private async Task ListenAsync(CancellationToken token)
    {
        if (Volatile.Read(ref _listening) is not null)
        {
            return;
        }
        await _connecting.WaitAsync(token);
        try
        {
            if (_listening is not null)
            {
                return;
            }
            var connection = await dataSource.OpenConnectionAsync(token);
            try
            {
                connection.Notification += Notified;
                await using var listen = new NpgsqlCommand($"listen {channel}", connection);
                await listen.ExecuteNonQueryAsync(token);
            }
            catch
            {
                await connection.DisposeAsync();
                throw;
            }
            Volatile.Write(ref _listening, connection);
            _ = ReceiveAsync(connection);
        }
        finally
        {
            _connecting.Release();
        }
    }

    /// <summary>Reads the NOTIFYs as they come, until the connection breaks or the wake-up is disposed; then closes it.</summary>
    private async Task ReceiveAsync(NpgsqlConnection connection)
    {
        // Off the caller's thread: the first wait would otherwise run this loop up to its first await.
        await Task.Yield();
        try
        {
            while (true)
            {
                await connection.WaitAsync(_lifetime.Token);
            }
        }
        catch (OperationCanceledException) when (_lifetime.IsCancellationRequested)
        {
            // Disposed.
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "The connection listening on channel {Channel} broke; the next wait listens again", channel);
            Volatile.Write(ref _listening, null);
            // NOTIFYs sent while no one listened are lost: the agent looks at once rather than at its next poll.
            KeepWakeUp();
        }
        finally
        {
            await connection.DisposeAsync();
        }
    }

    private void Notified(object sender, NpgsqlNotificationEventArgs e) => KeepWakeUp();

    private void KeepWakeUp()
    {
        // A broken connection's loop and its successor's may both get here at once. The agent's wait only ever takes the
        // count, so under the lock it cannot become 1 between the check and the release.
        lock (_keeping)
        {
            if (_notified.CurrentCount == 0)
            {
                _notified.Release();
            }
        }
    }

    /// <summary>Stops listening; the receiving loop closes its connection as it ends.</summary>
    public void Dispose() => _lifetime.Cancel();
}
