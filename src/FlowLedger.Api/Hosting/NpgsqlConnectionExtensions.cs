using Npgsql;

namespace FlowLedger.Api.Hosting;

public static class NpgsqlConnectionExtensions
{
    /// <summary>The first column of the first row, or <typeparamref name="T"/>'s default for SQL null or no row.</summary>
    public static async Task<T> ScalarAsync<T>(this NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync(ct);
        return value is DBNull ? default! : (T)value!;
    }
}
