using Npgsql;

namespace FlowLedger.Api.Tests.Fixtures;

/// <summary>Straight to PostgreSQL, behind the app's back: to look at what it stored, or to tamper with it.</summary>
public static class Sql
{
    public static async Task<List<T>> QueryAsync<T>(string connectionString, string sql, Func<NpgsqlDataReader, T> read)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        var rows = new List<T>();
        while (await reader.ReadAsync(TestContext.Current.CancellationToken))
        {
            rows.Add(read(reader));
        }
        return rows;
    }

    /// <summary>The first column of the first row; null (as <typeparamref name="T"/>'s default) for a statement that returns none.</summary>
    public static async Task<T> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }

    /// <summary>Polls until <paramref name="booleanQuery"/> answers true; fails after 20 s, naming it.</summary>
    public static async Task WaitUntilAsync(string connectionString, string booleanQuery)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!await ScalarAsync<bool>(connectionString, booleanQuery))
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(20), $"timed out waiting for: {booleanQuery}");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }
}
