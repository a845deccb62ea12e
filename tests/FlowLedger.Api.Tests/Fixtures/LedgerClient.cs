using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FlowLedger.Api.Security;
using Microsoft.AspNetCore.Http;

namespace FlowLedger.Api.Tests.Fixtures;

/// <summary>What a client of the HTTP API sees: the status and the JSON body.</summary>
public sealed record ApiAnswer(HttpStatusCode Status, JsonNode? Body, HttpResponseMessage Response)
{
    public JsonNode Json => Body ?? throw new InvalidOperationException($"No JSON body ({Status}).");

    public string Detail => Body?["detail"]?.GetValue<string>() ?? "";
}

/// <summary>
/// Talks to the app in-process over HTTP, with raw bodies so tests can send anything a client could.
/// Each request carries a key chosen by <paramref name="keyFor"/> from the access it needs.
/// </summary>
public sealed class LedgerClient(HttpClient http, Func<Access, string?> keyFor)
{
    /// <summary>Sends the key of the least role the app's own policy asks for, so every test proves that role is enough.</summary>
    public static LedgerClient For(AppFixture app) =>
        new(app.Host.Server.CreateClient(), access => access == Access.Public ? null : app.Keys[(Role)access]);

    /// <summary>Sends <paramref name="key"/> (or no key at all) whatever the request.</summary>
    public static LedgerClient WithKey(AppFixture app, string? key) => new(app.Host.Server.CreateClient(), _ => key);

    public Task<ApiAnswer> PostAsync(string url, object body, string? idempotencyKey = null) =>
        PostRawAsync(url, JsonSerializer.Serialize(body), idempotencyKey);

    public async Task<ApiAnswer> PostRawAsync(string url, string body, string? idempotencyKey = null, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent(body, Encoding.UTF8, MediaTypeHeaderValue.Parse(contentType)),
        };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }
        return await SendAsync(request);
    }

    public Task<ApiAnswer> GetAsync(string url) => SendAsync(HttpMethod.Get, url);

    public Task<ApiAnswer> SendAsync(HttpMethod method, string url) => SendAsync(new HttpRequestMessage(method, url));

    public async Task<ApiAnswer> SendAsync(HttpRequestMessage request)
    {
        var path = new PathString(new Uri(http.BaseAddress!, request.RequestUri!).AbsolutePath);
        if (keyFor(AccessPolicy.Required(request.Method.Method, path, endpointMatched: true)) is { } key)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var body = text.Length > 0 && response.Content.Headers.ContentType?.MediaType is "application/json" or "application/problem+json"
            ? JsonNode.Parse(text)
            : null;
        return new ApiAnswer(response.StatusCode, body, response);
    }

    public async Task RegisterAsync(params string[] companyIds)
    {
        foreach (var id in companyIds)
        {
            var answer = await PostAsync("/api/companies", new { companyId = id, name = id.ToUpperInvariant(), kind = "other", effectiveOn = "2024-01-01" });
            Assert.Equal(HttpStatusCode.Created, answer.Status);
        }
    }

    /// <summary>Two freshly registered companies and the id of a deal not recorded yet.</summary>
    public async Task<(string A, string B, string Deal)> NewPartiesAsync()
    {
        var (a, b) = (Ids.New("a"), Ids.New("b"));
        await RegisterAsync(a, b);
        return (a, b, Ids.New("deal"));
    }

    /// <summary>
    /// One import of <paramref name="payments"/> payments between two new companies, over 50 new deals: a bulk write when
    /// they are <see cref="FlowLedger.Api.Ledger.LedgerRecorder.BulkEntries"/> or more.
    /// </summary>
    public async Task ImportPaymentsAsync(int payments)
    {
        var (a, b, deal) = await NewPartiesAsync();
        var lines = Enumerable.Range(1, payments).Select(i => JsonSerializer.Serialize(new
        {
            type = "ServicesPaid", dealId = $"{deal}-{i % 50}", payer = a, payee = b,
            amount = new { amount = i, currency = "USD" }, description = $"payment {i}", effectiveOn = "2025-06-01",
        }));
        var imported = await PostRawAsync("/api/import", string.Join('\n', lines), contentType: "application/x-ndjson");
        Assert.Equal(HttpStatusCode.OK, imported.Status);
    }

    /// <summary>Records one deal event that must be accepted; returns the acknowledgement.</summary>
    public async Task<JsonNode> RecordAsync(string dealId, object body)
    {
        var answer = await PostAsync($"/api/deals/{dealId}/events", body);
        Assert.True(answer.Status == HttpStatusCode.Created, $"Expected 201, got {(int)answer.Status}: {answer.Body}");
        return answer.Json;
    }

    /// <summary>Every recorded event of a deal, or of the whole store.</summary>
    public async Task<JsonArray> EventsAsync(string? dealId = null)
    {
        var answer = await GetAsync(dealId is null ? "/api/events?limit=1000" : $"/api/events?dealId={dealId}&limit=1000");
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        return answer.Json.AsArray();
    }

    public static object Usd(decimal amount) => new { amount, currency = "USD" };
}
