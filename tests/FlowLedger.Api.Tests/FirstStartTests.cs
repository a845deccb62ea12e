using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using FlowLedger.Api.Hosting;
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
        await using (var first = await RunningApp.StartAsync(_dataDirectory))
        {
            var companies = JsonNode.Parse(await first.Http.GetStringAsync("/api/companies", Ct))!.AsArray();
            Assert.Contains(companies, c => c!["companyId"]!.GetValue<string>() == "nvidia");
            eventsAfterFirstStart = await CountEventsAsync(first);
            Assert.True(eventsAfterFirstStart > 40);
            Assert.Contains("Embedded PostgreSQL", first.Output);
            Assert.Contains(_dataDirectory, first.Output);
            Assert.Contains("Creating a PostgreSQL cluster", first.Output);
        }
        Assert.False(ClusterIsRunning(), "The cluster should stop with the app.");

        await using (var second = await RunningApp.StartAsync(_dataDirectory))
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
        }

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

    private static async Task<int> CountEventsAsync(RunningApp app) =>
        JsonNode.Parse(await app.Http.GetStringAsync("/api/events?limit=1000", Ct))!.AsArray().Count;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private bool ClusterIsRunning() => File.Exists(Path.Combine(_dataDirectory, "pgdata", "postmaster.pid"));

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync()
    {
        Directory.Delete(_dataDirectory, recursive: true);
        return ValueTask.CompletedTask;
    }

    /// <summary>The built app as its own process on a free loopback port, stopped with SIGTERM like Ctrl+C.</summary>
    private sealed class RunningApp : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly System.Text.StringBuilder _output = new();

        private RunningApp(Process process, HttpClient http)
        {
            _process = process;
            Http = http;
        }

        public HttpClient Http { get; }

        public string Output
        {
            get { lock (_output) { return _output.ToString(); } }
        }

        public static async Task<RunningApp> StartAsync(string dataDirectory)
        {
            var port = FreePort();
            var start = new ProcessStartInfo("dotnet", [typeof(Program).Assembly.Location, "--urls", $"http://127.0.0.1:{port}"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                Environment = { ["FLOWLEDGER_DATA"] = dataDirectory, ["ConnectionStrings__Marten"] = "" },
            };
            var process = Process.Start(start)!;
            var app = new RunningApp(process, new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") });
            process.OutputDataReceived += (_, e) => app.Append(e.Data);
            process.ErrorDataReceived += (_, e) => app.Append(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            await app.WaitUntilHealthyAsync();
            return app;
        }

        private void Append(string? line)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }

        private async Task WaitUntilHealthyAsync()
        {
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                try
                {
                    if ((await Http.GetAsync("/health")).StatusCode == HttpStatusCode.OK)
                    {
                        return;
                    }
                }
                catch (HttpRequestException)
                {
                    // Not listening yet.
                }
                await Task.Delay(250);
            }
            throw new InvalidOperationException($"The app did not become healthy:\n{Output}");
        }

        public async ValueTask DisposeAsync()
        {
            Process.Start("kill", ["-TERM", _process.Id.ToString()])!.WaitForExit();
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Http.Dispose();
            _process.Dispose();
        }

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
    }
}
