using System.Text.Json.Nodes;
using FlowLedger.Api.Hosting;
using FlowLedger.Api.Tests.Fixtures;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace FlowLedger.Api.Tests;

/// <summary>
/// SPEC §11 as a new user meets it: the app started with no configuration runs its own PostgreSQL,
/// loads the demo, stops the cluster when it stops, and finds it again on the next start.
/// </summary>
public sealed class FirstStartTests : IAsyncLifetime
{
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("flowledger-first-start-").FullName;

    [Fact]
    public async Task The_app_runs_its_own_postgres_loads_the_demo_once_and_stops_the_cluster_on_shutdown()
    {
        int eventsAfterFirstStart;
        await using (var first = await StartAppAsync())
        {
            var companies = JsonNode.Parse(await first.Http.GetStringAsync("/api/companies", Ct))!.AsArray();
            Assert.Contains(companies, c => c!["companyId"]!.GetValue<string>() == "nvidia");
            eventsAfterFirstStart = await CountEventsAsync(first);
            Assert.True(eventsAfterFirstStart > 40);
            Assert.Contains("Embedded PostgreSQL", first.Output);
            Assert.Contains(_dataDirectory, first.Output);
            Assert.Contains("Creating a PostgreSQL cluster", first.Output);
            Assert.Contains("OPEN MODE: no API key is configured", first.Output);
            Assert.Equal("""{"keysRequired":false,"keyName":null,"role":"admin"}""", await first.Http.GetStringAsync("/api/access", Ct));
        }
        Assert.False(ClusterIsRunning(), "The cluster should stop with the app.");

        await using (var second = await StartAppAsync())
        {
            Assert.Equal(eventsAfterFirstStart, await CountEventsAsync(second));
            Assert.DoesNotContain("Creating a PostgreSQL cluster", second.Output);
        }
    }

    [Fact]
    public async Task A_second_process_on_the_same_folder_does_not_stop_the_owner_s_cluster()
    {
        await using var owner = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions(_dataDirectory, Durable: false), NullLogger.Instance, Ct);
        await using (var guest = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions(_dataDirectory, Durable: false), NullLogger.Instance, Ct))
        {
            Assert.Equal(owner.Port, guest.Port);
            Assert.Equal(new NpgsqlConnectionStringBuilder(owner.ConnectionString).Host, new NpgsqlConnectionStringBuilder(guest.ConnectionString).Host);
        }

        // The app connects through the cluster's Unix socket, kept in the cluster's own folder.
        Assert.Equal(Path.Combine(_dataDirectory, "pgdata"), new NpgsqlConnectionStringBuilder(owner.ConnectionString).Host);

        await using var connection = new NpgsqlConnection(owner.ConnectionString);
        await connection.OpenAsync(Ct);
        await using var query = new NpgsqlCommand("select 1", connection);
        Assert.Equal(1, await query.ExecuteScalarAsync(Ct));
    }

    [Fact]
    public async Task Without_postgres_binaries_the_app_says_what_to_install()
    {
        var empty = Directory.CreateTempSubdirectory("no-postgres-").FullName;
        var exception = await Assert.ThrowsAsync<PostgresBinariesNotFoundException>(() =>
            EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions(_dataDirectory, BinDirectory: empty), NullLogger.Instance, Ct));
        Assert.Contains("apt-get install postgresql", exception.Message);
        Assert.Contains("ConnectionStrings__Marten", exception.Message);
        Assert.Contains("docker compose up", exception.Message);
        Directory.Delete(empty);
    }

    private Task<AppProcess> StartAppAsync() =>
        AppProcess.StartAsync(new Dictionary<string, string?> { ["FLOWLEDGER_DATA"] = _dataDirectory, ["ConnectionStrings__Marten"] = "" }, Ct);

    private static async Task<int> CountEventsAsync(AppProcess app) =>
        JsonNode.Parse(await app.Http.GetStringAsync("/api/events?limit=1000", Ct))!.AsArray().Count;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private bool ClusterIsRunning() => File.Exists(Path.Combine(_dataDirectory, "pgdata", "postmaster.pid"));

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync()
    {
        Directory.Delete(_dataDirectory, recursive: true);
        return ValueTask.CompletedTask;
    }
}
