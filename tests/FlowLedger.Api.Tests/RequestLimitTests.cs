using System.Net;
using System.Text;
using FlowLedger.Api.Security;
using FlowLedger.Api.Tests.Fixtures;
using Microsoft.AspNetCore.Hosting;

namespace FlowLedger.Api.Tests;

/// <summary>The app with small limits, so tests can reach them quickly.</summary>
public sealed class TightLimitsFixture(PostgresServer server) : AppFixture(server)
{
    public const int Burst = 5;

    protected override void Configure(IWebHostBuilder builder)
    {
        builder.UseSetting("FlowLedger:Limits:PermitsPerSecond", "1");
        builder.UseSetting("FlowLedger:Limits:Burst", Burst.ToString());
        builder.UseSetting("FlowLedger:Limits:BodyBytes", "10000");
        builder.UseSetting("FlowLedger:Limits:ImportBodyBytes", "100000");
        builder.UseSetting("FlowLedger:Limits:TimeoutSeconds", "1");
    }
}

/// <summary>SPEC §9–10: per-key rate limits (429), bounded bodies (413) and timeouts, all as problem details.</summary>
public sealed class RequestLimitTests(TightLimitsFixture app) : IClassFixture<TightLimitsFixture>
{
    [Fact]
    public async Task A_key_past_its_rate_gets_429_with_retry_after_while_other_keys_are_served()
    {
        var reader = LedgerClient.WithKey(app, app.Keys[Role.Reader]);
        var answers = new List<ApiAnswer>();
        for (var i = 0; i < TightLimitsFixture.Burst + 5; i++)
        {
            answers.Add(await reader.GetAsync("/api/companies"));
        }

        var limited = answers.Where(a => a.Status == HttpStatusCode.TooManyRequests).ToList();
        Assert.InRange(limited.Count, 3, 5);
        Assert.All(limited, a =>
        {
            Assert.Equal("application/problem+json", a.Response.Content.Headers.ContentType?.MediaType);
            Assert.True(a.Response.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), $"Retry-After: {a.Response.Headers.RetryAfter}");
        });
        Assert.Equal(HttpStatusCode.OK, (await LedgerClient.WithKey(app, app.Keys[Role.Admin]).GetAsync("/api/companies")).Status);
    }

    [Fact]
    public async Task A_body_beyond_the_bound_is_413_and_writes_nothing()
    {
        var writer = LedgerClient.WithKey(app, app.Keys[Role.Writer]);
        var company = $$"""{"companyId":"big","name":"{{new string('x', 20_000)}}","kind":"other","effectiveOn":"2025-01-01"}""";

        var answer = await writer.PostRawAsync("/api/companies", company);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, answer.Status);
        Assert.Contains("at most 10000", answer.Detail);
        Assert.Equal("application/problem+json", answer.Response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, (await LedgerClient.WithKey(app, app.Keys[Role.Admin]).GetAsync("/api/companies/big/balance")).Status);
    }

    [Fact]
    public async Task The_import_takes_a_larger_body_up_to_its_own_bound()
    {
        var writer = LedgerClient.WithKey(app, app.Keys[Role.Writer]);
        var line = """{"type":"CompanyRegistered","companyId":"c-{0}","name":"C","kind":"other","effectiveOn":"2025-01-01"}""";
        string Lines(int count) => string.Join('\n', Enumerable.Range(0, count).Select(i => line.Replace("{0}", $"{i}-{Guid.NewGuid():N}"[..12])));

        var withinImportBound = await writer.PostRawAsync("/api/import", Lines(300), contentType: "application/x-ndjson");
        var beyond = await writer.PostRawAsync("/api/import", Lines(1200), contentType: "application/x-ndjson");

        Assert.True(withinImportBound.Status == HttpStatusCode.OK, $"{(int)withinImportBound.Status}: {withinImportBound.Body}");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, beyond.Status);
    }

    [Fact]
    public async Task A_request_that_outlasts_the_timeout_is_cut_with_a_problem()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/companies") { Content = new StalledContent() };
        var started = DateTime.UtcNow;

        var answer = await LedgerClient.WithKey(app, app.Keys[Role.Admin]).SendAsync(request);

        Assert.Equal(HttpStatusCode.GatewayTimeout, answer.Status);
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(9));
    }

    /// <summary>A client that sends the start of a body, then nothing: the slow-loris of request bodies.</summary>
    private sealed class StalledContent : HttpContent
    {
        public StalledContent() => Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(Encoding.UTF8.GetBytes("{\"companyId\":"));
            await stream.FlushAsync();
            await Task.Delay(TimeSpan.FromSeconds(10));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
