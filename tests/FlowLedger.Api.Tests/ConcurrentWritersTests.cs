using System.Net;
using FlowLedger.Api.Tests.Fixtures;
using FlowLedger.Domain;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using static FlowLedger.Api.Tests.Fixtures.LedgerClient;

namespace FlowLedger.Api.Tests;

/// <summary>
/// 16 writers at once through the HTTP API, on one shared deal and on deals of their own: every
/// acknowledged event is stored exactly once, a stale expectedVersion is a 409, versions have no
/// hole and no repeat, the postings projection equals a fold from scratch and the audit chain
/// seals every event.
/// </summary>
public sealed class ConcurrentWritersTests(UnlimitedFixture app) : IClassFixture<UnlimitedFixture>
{
    private const int Writers = 16;
    private const int CommandsPerWriter = 16;

    private readonly LedgerClient _api = LedgerClient.For(app);

    [Fact]
    public async Task Sixteen_writers_lose_no_update_stale_versions_get_409_and_projections_skip_no_event()
    {
        var companies = Enumerable.Range(0, 4).Select(_ => Ids.New("c")).ToArray();
        await _api.RegisterAsync(companies);
        var shared = Ids.New("shared");
        await _api.RecordAsync(shared, Payment(companies[0], companies[1], 1, "opening"));

        var acknowledged = new List<(string Deal, Guid EventId, long Sequence, long Version)>();
        var staleRefusals = 0;
        var busyRetries = 0;
        var start = new Barrier(Writers);
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(writer => Task.Run(async () =>
        {
            var own = $"{shared}-own-{writer}";
            var (payer, payee) = (companies[writer % 4], companies[(writer + 1) % 4]);
            start.SignalAndWait(TestContext.Current.CancellationToken);
            for (var i = 0; i < CommandsPerWriter; i++)
            {
                var deal = i % 2 == 0 ? shared : own;
                var body = Payment(payer, payee, i + 1, $"w{writer} c{i}");
                var answer = await _api.PostAsync($"/api/deals/{deal}/events", body, idempotencyKey: $"{shared}-{writer}-{i}");
                // Sixteen writers on one deal can outrun the server's own retries; the client retries under the same key.
                for (var retry = 0; retry < 20 && answer.Status == HttpStatusCode.Conflict && answer.Detail.Contains("Retry.", StringComparison.Ordinal); retry++)
                {
                    Interlocked.Increment(ref busyRetries);
                    answer = await _api.PostAsync($"/api/deals/{deal}/events", body, idempotencyKey: $"{shared}-{writer}-{i}");
                }
                Assert.True(answer.Status == HttpStatusCode.Created, $"writer {writer} command {i}: {(int)answer.Status} {answer.Body}");
                lock (acknowledged)
                {
                    acknowledged.Add((deal, Guid.Parse(answer.Json["eventId"]!.GetValue<string>()), answer.Json["sequence"]!.GetValue<long>(), answer.Json["version"]!.GetValue<long>()));
                }
            }
        })));

        // Every writer read the shared deal's version, then all claim it at once: one wins, fifteen are stale.
        var version = (await _api.GetAsync($"/api/deals/{shared}")).Json["version"]!.GetValue<long>();
        var claims = await Task.WhenAll(Enumerable.Range(0, Writers).Select(writer => Task.Run(() => _api.PostAsync($"/api/deals/{shared}/events",
            new { type = "ServicesPaid", payer = companies[0], payee = companies[1], amount = Usd(1), description = $"claim {writer}", effectiveOn = "2025-06-01", expectedVersion = version }))));
        foreach (var claim in claims)
        {
            if (claim.Status == HttpStatusCode.Created)
            {
                acknowledged.Add((shared, Guid.Parse(claim.Json["eventId"]!.GetValue<string>()), claim.Json["sequence"]!.GetValue<long>(), claim.Json["version"]!.GetValue<long>()));
            }
            else
            {
                Assert.Equal(HttpStatusCode.Conflict, claim.Status);
                Assert.Contains($"not the expected {version}", claim.Detail);
                staleRefusals++;
            }
        }
        Assert.Equal(Writers - 1, staleRefusals);
        TestContext.Current.SendDiagnosticMessage($"{busyRetries} client retries after the server's own retries gave up");

        var stored = await StoredEventsAsync(shared);
        Assert.Equal(Writers * CommandsPerWriter + 1, acknowledged.Count);
        // Besides what was acknowledged, only the shared deal's opening event.
        Assert.Equal(acknowledged.Count + 1, stored.Count);
        Assert.All(acknowledged, ack => Assert.Equal((ack.Deal, ack.Sequence, ack.Version), stored[ack.EventId]));
        foreach (var deal in acknowledged.Select(a => a.Deal).Distinct())
        {
            var versions = stored.Values.Where(s => s.Deal == deal).Select(s => s.Version).Order().ToList();
            Assert.Equal(Enumerable.Range(1, versions.Count).Select(v => (long)v), versions);
        }

        var store = app.Host.Services.GetRequiredService<IDocumentStore>();
        await ProjectionCheck.AssertMatchesFoldAsync(store, companies, [new PointInTime(null, app.Clock.GetCurrentInstant()), new PointInTime(new NodaTime.LocalDate(2025, 3, 1), app.Clock.GetCurrentInstant())]);
        var audit = (await _api.GetAsync("/api/audit/verify")).Json;
        Assert.True(audit["ok"]!.GetValue<bool>(), audit.ToJsonString());
        Assert.Equal(0, audit["pending"]!.GetValue<long>());
        Assert.Equal(await CountAllEventsAsync(), audit["checked"]!.GetValue<long>());
    }

    private static object Payment(string payer, string payee, decimal amount, string description) =>
        new { type = "ServicesPaid", payer, payee, amount = Usd(amount), description, effectiveOn = $"2025-{1 + (int)amount % 12:00}-01" };

    /// <summary>The events of the shared deal and of the writers' own deals, by id, straight from PostgreSQL.</summary>
    private async Task<Dictionary<Guid, (string Deal, long Sequence, long Version)>> StoredEventsAsync(string shared)
    {
        var rows = await Sql.QueryAsync(app.ConnectionString, $"select id, stream_id, seq_id, version from flowledger.mt_events where stream_id like '{shared}%'",
            r => (r.GetGuid(0), (r.GetString(1), r.GetInt64(2), r.GetInt64(3))));
        // ToDictionary, not a lookup: an id stored twice throws here.
        return rows.ToDictionary(r => r.Item1, r => r.Item2);
    }

    private Task<long> CountAllEventsAsync() => Sql.ScalarAsync<long>(app.ConnectionString, "select count(*) from flowledger.mt_events");
}
