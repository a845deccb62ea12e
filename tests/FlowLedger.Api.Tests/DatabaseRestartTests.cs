using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using FlowLedger.Api.Hosting;
using FlowLedger.Api.Tests.Fixtures;
using Microsoft.Extensions.Logging.Abstractions;

namespace FlowLedger.Api.Tests;

/// <summary>
/// PostgreSQL restarts while clients record commands and a subscriber listens: the app recovers by itself,
/// every acknowledged command is stored once, and the subscriber gets every event in order, without a gap.
/// </summary>
public sealed class DatabaseRestartTests : IAsyncLifetime
{
    private const int Commands = 1_500;
    private const int RestartAfter = 400;

    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("flowledger-db-restart-").FullName;

    [Fact]
    public async Task Commands_and_subscribers_ride_through_a_restart_of_postgres()
    {
        // A cluster of the test's own, so restarting it disturbs no other test.
        await using var postgres = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions(_dataDirectory, Durable: false), NullLogger.Instance, Ct);
        var environment = new Dictionary<string, string?>
        {
            ["ConnectionStrings__Marten"] = await postgres.CreateDatabaseAsync("restart", Ct),
            ["FlowLedger__LoadDemo"] = "false",
            ["FlowLedger__Limits__PermitsPerSecond"] = "1000000",
            ["FlowLedger__Limits__Burst"] = "1000000",
        };
        await using var app = await AppProcess.StartAsync(environment, Ct);
        using var http = new HttpClient { BaseAddress = app.Http.BaseAddress, Timeout = TimeSpan.FromSeconds(15) };
        var (payer, payee) = ("restart-a", "restart-b");
        foreach (var company in new[] { payer, payee })
        {
            var registered = await http.PostAsJsonAsync("/api/companies", new { companyId = company, name = company, kind = "other", effectiveOn = "2024-01-01" }, Ct);
            Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        }

        using var listening = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var received = new List<long>();
        var subscriber = Task.Run(() => SubscribeAsync(http.BaseAddress!, received, listening.Token), Ct);

        var stream = new CommandStream(http, payer, payee, Commands, deals: 50, dealPrefix: "restart-");
        var acknowledgedWhenRestarted = 0;
        async Task RestartPostgresAsync()
        {
            while (stream.Acknowledged.Count < RestartAfter)
            {
                await Task.Delay(20, Ct);
            }
            await RestartAsync(Path.Combine(_dataDirectory, "pgdata"));
            acknowledgedWhenRestarted = stream.Acknowledged.Count;
        }
        await Task.WhenAll(stream.RunAsync(clients: 4, Ct), Task.Run(RestartPostgresAsync, Ct));
        // Marten retries what a restart cuts, so clients may see no failure at all; what matters is that they were still writing.
        Assert.True(acknowledgedWhenRestarted < Commands, $"PostgreSQL restarted only after all {Commands} commands were acknowledged.");
        TestContext.Current.SendDiagnosticMessage($"restarted at {acknowledgedWhenRestarted} acknowledgements; {stream.FailedAttempts} attempts failed and were retried");

        var all = new List<StoredEvent>();
        for (var page = await EventsAfterAsync(app, http, 0); page.Count > 0; page = await EventsAfterAsync(app, http, page[^1].Sequence))
        {
            all.AddRange(page);
        }
        var commandEvents = all.Where(e => e.DealId?.StartsWith("restart-", StringComparison.Ordinal) == true).ToList();
        Assert.Equal(Commands, commandEvents.Count);
        Assert.Equal(stream.Acknowledged.Values.Order(), commandEvents.Select(e => e.EventId).Order());

        // The subscriber ends with every event, each once, in sequence order.
        var expected = all.Select(e => e.Sequence).ToList();
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (Count(received) < expected.Count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200, Ct);
        }
        await listening.CancelAsync();
        await subscriber;
        lock (received)
        {
            Assert.True(expected.SequenceEqual(received),
                $"The subscriber got {received.Count} of {expected.Count} events, the last {received.LastOrDefault()}; the app's log ends:\n{app.Output[^Math.Min(app.Output.Length, 12000)..]}");
        }
    }

    private sealed record StoredEvent(Guid EventId, long Sequence, string? DealId);

    /// <summary>A page of the recorded events, asked again after a 503 as its Retry-After says: a client's part in riding out a restart.</summary>
    private static async Task<List<StoredEvent>> EventsAfterAsync(AppProcess app, HttpClient http, long sequence)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var response = await http.GetAsync($"/api/events?limit=1000&afterSequence={sequence}", Ct);
            if (response.StatusCode != HttpStatusCode.ServiceUnavailable || attempt == 10)
            {
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}; the app's log ends:\n{app.Output[^Math.Min(app.Output.Length, 6000)..]}");
                return (await response.Content.ReadFromJsonAsync<List<StoredEvent>>(Ct))!;
            }
            await Task.Delay(TimeSpan.FromSeconds(1), Ct);
        }
    }

    private static int Count(List<long> received)
    {
        lock (received)
        {
            return received.Count;
        }
    }

    /// <summary>Listens on the events topic and, whenever the stream ends or fails, reconnects with the last id it saw.</summary>
    private static async Task SubscribeAsync(Uri baseAddress, List<long> received, CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = baseAddress, Timeout = Timeout.InfiniteTimeSpan };
        string? lastEventId = "0";
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var sse = await SseClient.ConnectAsync(http, "events", lastEventId);
                while (await sse.NextAsync(TimeSpan.FromMinutes(5), ct) is { } message)
                {
                    lock (received)
                    {
                        received.Add(message.Data["sequence"]!.GetValue<long>());
                    }
                    lastEventId = sse.LastEventId;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException && !ct.IsCancellationRequested)
            {
                await Task.Delay(200, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>
    /// <c>pg_ctl restart</c> keeps the port and options the server was started with. The new server logs to a
    /// file: were its output ours, reading it to the end would wait for the server to stop.
    /// </summary>
    private static async Task RestartAsync(string clusterDirectory)
    {
        var pgCtl = Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin", "pg_ctl")).Where(File.Exists).Order().Last();
        string[] arguments = ["-D", clusterDirectory, "-l", Path.Combine(clusterDirectory, "restarted.log"), "-m", "fast", "-w", "restart"];
        var start = Environment.UserName == "root"
            ? new ProcessStartInfo("runuser", ["-u", "postgres", "--", pgCtl, .. arguments])
            : new ProcessStartInfo(pgCtl, arguments);
        using var process = Process.Start(start)!;
        await process.WaitForExitAsync(Ct);
        Assert.Equal(0, process.ExitCode);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync()
    {
        Directory.Delete(_dataDirectory, recursive: true);
        return ValueTask.CompletedTask;
    }
}
