using System.Net;
using System.Net.Http.Headers;
using FlowLedger.Api.Security;
using FlowLedger.Api.Tests.Fixtures;
using Microsoft.AspNetCore.Hosting;
using static FlowLedger.Api.Tests.Fixtures.LedgerClient;

namespace FlowLedger.Api.Tests;

/// <summary>The app without a rate limit in the way: the corpus is one client firing thousands of requests.</summary>
public sealed class UnlimitedFixture(PostgresServer server) : AppFixture(server)
{
    protected override void Configure(IWebHostBuilder builder)
    {
        builder.UseSetting("FlowLedger:Limits:PermitsPerSecond", "1000000");
        builder.UseSetting("FlowLedger:Limits:Burst", "1000000");
    }
}

/// <summary>
/// SPEC §9: whatever a client sends, a refusal is a 4xx problem — never a 500, never a stack trace
/// or SQL — and a refused request writes nothing. 10,000 requests generated from a seed.
/// </summary>
public sealed class HostileInputTests(UnlimitedFixture app) : IClassFixture<UnlimitedFixture>
{
    private const int Seed = 20261128;
    private const int Requests = 10_000;

    private readonly LedgerClient _api = LedgerClient.For(app);

    [Fact]
    public async Task Ten_thousand_hostile_requests_get_4xx_problems_and_write_nothing()
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        var known = await _api.RecordAsync(deal, new { type = "ServicesPaid", payer = a, payee = b, amount = Usd(5), description = "compute", effectiveOn = "2025-05-01" });
        var before = await StoreCountsAsync();
        var corpus = new HostileCorpus(new Random(Seed), a, b, Guid.Parse(known["eventId"]!.GetValue<string>())).Generate(Requests).ToList();

        var failures = new List<string>();
        var statuses = new Dictionary<int, int>();
        await Parallel.ForEachAsync(corpus, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = TestContext.Current.CancellationToken }, async (hostile, _) =>
        {
            var answer = await SendAsync(hostile);
            var status = (int)answer.Status;
            var problem = answer.Response.Content.Headers.ContentType?.MediaType == "application/problem+json";
            var text = answer.Body?.ToJsonString() ?? "";
            lock (failures)
            {
                statuses[status] = statuses.GetValueOrDefault(status) + 1;
                if (status is < 400 or >= 500 || !problem || Leaks(text))
                {
                    failures.Add($"{status} {(problem ? "" : "(not a problem) ")}{hostile}\n   → {text[..Math.Min(text.Length, 400)]}");
                }
            }
        });

        Assert.True(failures.Count == 0,
            $"{failures.Count} of {corpus.Count} hostile requests were not refused with a clean 4xx problem:\n{string.Join("\n", failures.Take(30))}");
        Assert.Equal(before, await StoreCountsAsync());
        Assert.True(statuses.Keys.Count >= 5, $"The corpus should meet many kinds of refusal: {string.Join(", ", statuses)}");
    }

    /// <summary>What the server must never show a client: its stack or its database's errors. (Refusals may quote the client's own text.)</summary>
    private static bool Leaks(string body) =>
        new[] { "   at ", "Exception", "Npgsql", "StackTrace", "SqlState", "syntax error at" }.Any(body.Contains);

    private async Task<ApiAnswer> SendAsync(HostileRequest hostile)
    {
        var request = new HttpRequestMessage(hostile.Method, hostile.Url);
        if (hostile.Body is not null)
        {
            request.Content = new ByteArrayContent(hostile.Body);
            request.Content.Headers.ContentType = hostile.ContentType is null ? null : MediaTypeHeaderValue.Parse(hostile.ContentType);
        }
        return await _api.SendAsync(request);
    }

    /// <summary>Everything a write leaves behind: events, streams, postings, idempotency records and company profiles.</summary>
    private Task<string> StoreCountsAsync() => Sql.ScalarAsync<string>(app.ConnectionString, """
        select (select count(*) from flowledger.mt_events) || ' events, ' || (select count(*) from flowledger.mt_streams) || ' streams, '
            || (select count(*) from flowledger.fl_postings) || ' postings, ' || (select count(*) from flowledger.mt_doc_idempotencyrecord) || ' keys, '
            || (select count(*) from flowledger.mt_doc_companyprofile) || ' companies'
        """);
}
