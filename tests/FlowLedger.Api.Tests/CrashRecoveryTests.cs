using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using FlowLedger.Api.Tests.Fixtures;
using FlowLedger.Domain;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace FlowLedger.Api.Tests;

/// <summary>
/// The server is killed with SIGKILL while a client streams 10,000 commands with idempotency keys
/// and retries; after a restart every acknowledged command is stored exactly once, none is half
/// written, the projection equals a fold and a rebuild, and the audit chain is whole.
/// </summary>
public sealed class CrashRecoveryTests(PostgresServer server)
{
    private const int Commands = 10_000;
    private const int KillAfter = 3_000;
    private const int Deals = 1000;

    [Fact]
    public async Task Commands_acknowledged_before_a_sigkill_are_stored_once_and_retries_after_the_restart_complete_the_rest()
    {
        var database = await server.CreateDatabaseAsync();
        var environment = new Dictionary<string, string?>
        {
            ["ConnectionStrings__Marten"] = database,
            ["FlowLedger__LoadDemo"] = "false",
            ["FlowLedger__Limits__PermitsPerSecond"] = "1000000",
            ["FlowLedger__Limits__Burst"] = "1000000",
        };
        var app = await AppProcess.StartAsync(environment, TestContext.Current.CancellationToken);
        using var http = new HttpClient { BaseAddress = app.Http.BaseAddress, Timeout = TimeSpan.FromSeconds(15) };
        var (payer, payee) = ("crash-a", "crash-b");
        foreach (var company in new[] { payer, payee })
        {
            var registered = await http.PostAsJsonAsync("/api/companies", new { companyId = company, name = company, kind = "other", effectiveOn = "2024-01-01" }, Ct);
            Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        }

        var stream = new CommandStream(http, payer, payee, Commands, Deals, dealPrefix: "crash-");
        var acknowledged = stream.Acknowledged;
        var killed = new TaskCompletionSource<int>();
        async Task KillAndRestartAsync()
        {
            while (acknowledged.Count < KillAfter)
            {
                await Task.Delay(20, Ct);
            }
            await app.KillAsync();
            killed.SetResult(acknowledged.Count);
            await app.DisposeAsync();
            app = await AppProcess.StartAsync(environment, TestContext.Current.CancellationToken, port: app.Port);
        }

        await Task.WhenAll(stream.RunAsync(clients: 8, Ct), Task.Run(KillAndRestartAsync, Ct));
        await using var restarted = app;
        var acknowledgedBeforeKill = await killed.Task;
        TestContext.Current.SendDiagnosticMessage($"killed after {acknowledgedBeforeKill} acknowledgements; {stream.FailedAttempts} attempts failed and were retried");
        Assert.True(stream.FailedAttempts > 0, "The kill should have cut some requests.");

        // Exactly one event per command, the one its acknowledgement named, none half written.
        var stored = await Sql.QueryAsync(database, "select data->>'description', id from flowledger.mt_events where stream_id like 'crash-%'",
            r => (r.GetString(0), r.GetGuid(1)));
        Assert.Equal(Commands, stored.Count);
        Assert.Equal(Commands, stored.Select(s => s.Item1).Distinct().Count());
        var byCommand = stored.ToDictionary(s => s.Item1, s => s.Item2);
        Assert.All(Enumerable.Range(0, Commands), command => Assert.Equal(acknowledged[command], byCommand[stream.DescriptionOf(command)]));
        Assert.Equal([0L], await Sql.QueryAsync(database, """
            select count(*) from flowledger.mt_events e
            where e.stream_id like 'crash-%' and not exists (select 1 from flowledger.fl_postings p where p.event_id = e.id)
            """, r => r.GetInt64(0)));
        Assert.Equal([(long)Commands], await Sql.QueryAsync(database, $"select count(*) from flowledger.mt_doc_idempotencyrecord where id like '{stream.IdempotencyKeyPattern}'", r => r.GetInt64(0)));

        var audit = JsonNode.Parse(await restarted.Http.GetStringAsync("/api/audit/verify", Ct))!;
        Assert.True(audit["ok"]!.GetValue<bool>(), audit.ToJsonString());

        await using var reader = new ExistingDatabaseAppFixture(server, database);
        await reader.InitializeAsync();
        var store = reader.Host.Services.GetRequiredService<IDocumentStore>();
        var points = new[] { new PointInTime(null, SystemClock.Instance.GetCurrentInstant()), new PointInTime(new LocalDate(2025, 2, 1), SystemClock.Instance.GetCurrentInstant()) };
        await ProjectionCheck.AssertMatchesFoldAsync(store, [payer, payee], points);
        var daemon = await store.BuildProjectionDaemonAsync();
        await daemon.RebuildProjectionAsync("Postings", TimeSpan.FromMinutes(2), Ct);
        await ProjectionCheck.AssertMatchesFoldAsync(store, [payer, payee], points);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;
}
