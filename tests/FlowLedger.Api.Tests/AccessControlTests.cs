using System.Net;
using System.Text.RegularExpressions;
using FlowLedger.Api.Security;
using FlowLedger.Api.Tests.Fixtures;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using static FlowLedger.Api.Tests.Fixtures.LedgerClient;

namespace FlowLedger.Api.Tests;

/// <summary>SPEC §10: API keys and roles on every endpoint, and the key's name recorded as recordedBy.</summary>
public sealed partial class AccessControlTests(AppFixture app) : IClassFixture<AppFixture>
{
    private readonly LedgerClient _api = LedgerClient.For(app);

    /// <summary>Every route of SPEC §9, and the role this project gives it; routes not built yet are decided by path already.</summary>
    public static TheoryData<string, string, Access> SpecRoutes => new()
    {
        { "POST", "/api/companies", Access.Writer },
        { "GET", "/api/companies", Access.Reader },
        { "POST", "/api/deals/d-1/events", Access.Writer },
        { "POST", "/api/import", Access.Writer },
        { "POST", "/api/events/0b6c3d1e-4a55-4bd5-9c0e-2d4c7f1f0a11/reversal", Access.Admin },
        { "GET", "/api/events", Access.Reader },
        { "GET", "/api/deals/d-1", Access.Reader },
        { "GET", "/api/companies/c-1/balance", Access.Reader },
        { "GET", "/api/balances", Access.Reader },
        { "GET", "/api/trace", Access.Reader },
        { "GET", "/api/loops", Access.Reader },
        { "GET", "/api/replay", Access.Reader },
        { "GET", "/api/subscriptions/stream", Access.Reader },
        { "POST", "/api/webhooks", Access.Admin },
        { "GET", "/api/webhooks", Access.Admin },
        { "DELETE", "/api/webhooks/w-1", Access.Admin },
        { "GET", "/api/audit/verify", Access.Reader },
        { "GET", "/health", Access.Public },
        { "GET", "/api/access", Access.Public },
        { "GET", "/", Access.Public },
        { "GET", "/openapi/v1.json", Access.Public },
        { "GET", "/docs/api", Access.Public },
    };

    [Theory]
    [MemberData(nameof(SpecRoutes))]
    public void Each_route_of_the_spec_needs_its_role(string method, string path, Access expected) =>
        Assert.Equal(expected, AccessPolicy.Required(method, path, endpointMatched: true));

    [Fact]
    public void Files_outside_the_api_are_public_and_unknown_api_paths_are_not()
    {
        Assert.Equal(Access.Public, AccessPolicy.Required("GET", "/app.js", endpointMatched: false));
        Assert.Equal(Access.Reader, AccessPolicy.Required("GET", "/api/anything", endpointMatched: false));
        Assert.Equal(Access.Reader, AccessPolicy.Required("GET", "/admin", endpointMatched: true));
        Assert.Equal(Access.Writer, AccessPolicy.Required("POST", "/app.js", endpointMatched: false));
    }

    /// <summary>
    /// Walks every endpoint the app maps, so an endpoint added later is checked the day it lands:
    /// without a key or with a wrong one it is 401, with too low a role 403, with its role it is served.
    /// </summary>
    [Fact]
    public async Task Every_mapped_endpoint_refuses_missing_and_wrong_keys_and_roles_below_its_own()
    {
        var routes = MappedRoutes();
        Assert.Contains(("POST", "/api/companies"), routes.Select(r => (r.Method, r.Pattern)));
        Assert.Contains(("POST", "/api/events/{eventId}/reversal"), routes.Select(r => (r.Method, r.Pattern)));
        Assert.True(routes.Count >= 14, $"Only {routes.Count} routes found: {string.Join(", ", routes)}");

        foreach (var (method, pattern) in routes)
        {
            var path = Parameter().Replace(pattern, "0b6c3d1e-4a55-4bd5-9c0e-2d4c7f1f0a11");
            var required = AccessPolicy.Required(method, path, endpointMatched: true);
            var what = $"{method} {pattern}";
            if (required == Access.Public)
            {
                Assert.True(AccessPolicy.PublicPaths.Contains(path) || AccessPolicy.PublicPrefixes.Any(p => path.StartsWith(p, StringComparison.Ordinal)),
                    $"{what} is public without being listed as public.");
                Assert.True((await SendAsync(null, method, path)).Status is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden), what);
                continue;
            }

            var missing = await SendAsync(null, method, path);
            Assert.True(missing.Status == HttpStatusCode.Unauthorized, $"{what} without a key: {(int)missing.Status}");
            Assert.Equal("Bearer", missing.Response.Headers.WwwAuthenticate.ToString());
            Assert.Equal("application/problem+json", missing.Response.Content.Headers.ContentType?.MediaType);
            var wrong = await SendAsync(ApiKeyRing.Generate().Key, method, path);
            Assert.True(wrong.Status == HttpStatusCode.Unauthorized, $"{what} with an unknown key: {(int)wrong.Status}");

            foreach (var role in Enum.GetValues<Role>())
            {
                var answer = await SendAsync(app.Keys[role], method, path);
                if ((int)role < (int)required)
                {
                    Assert.True(answer.Status == HttpStatusCode.Forbidden, $"{what} as {role}: {(int)answer.Status}");
                    Assert.Contains($"needs {AccessControl.RoleName((Role)required)}", answer.Detail);
                }
                else
                {
                    Assert.True((int)answer.Status is not (401 or 403) and < 500, $"{what} as {role}: {(int)answer.Status} {answer.Body}");
                }
            }
        }
    }

    [Fact]
    public async Task A_write_is_recorded_by_the_name_of_its_key()
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        var recorded = await _api.RecordAsync(deal, new { type = "ServicesPaid", payer = a, payee = b, amount = Usd(5), description = "compute", effectiveOn = "2025-05-01" });
        var reversal = await _api.PostAsync($"/api/events/{recorded["eventId"]}/reversal", new { reason = "booked twice" });
        Assert.Equal(HttpStatusCode.Created, reversal.Status);

        var events = await _api.EventsAsync(deal);
        Assert.Equal([AppFixture.KeyName(Role.Writer), AppFixture.KeyName(Role.Admin)], events.Select(e => e!["recordedBy"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_refused_request_writes_nothing()
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        var body = new { type = "ServicesPaid", payer = a, payee = b, amount = Usd(5), description = "compute", effectiveOn = "2025-05-01" };

        Assert.Equal(HttpStatusCode.Forbidden, (await LedgerClient.WithKey(app, app.Keys[Role.Reader]).PostAsync($"/api/deals/{deal}/events", body)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await LedgerClient.WithKey(app, null).PostAsync($"/api/deals/{deal}/events", body)).Status);

        Assert.Empty(await _api.EventsAsync(deal));
    }

    [Fact]
    public async Task Access_tells_anyone_that_keys_are_required_and_a_key_holder_its_name_and_role()
    {
        var anonymous = await LedgerClient.WithKey(app, null).GetAsync("/api/access");
        var unknown = await LedgerClient.WithKey(app, ApiKeyRing.Generate().Key).GetAsync("/api/access");
        var reader = await LedgerClient.WithKey(app, app.Keys[Role.Reader]).GetAsync("/api/access");

        Assert.Equal("""{"keysRequired":true,"keyName":null,"role":null}""", anonymous.Json.ToJsonString());
        Assert.Equal(HttpStatusCode.OK, unknown.Status);
        Assert.Equal(anonymous.Json.ToJsonString(), unknown.Json.ToJsonString());
        Assert.Equal($$"""{"keysRequired":true,"keyName":"{{AppFixture.KeyName(Role.Reader)}}","role":"reader"}""", reader.Json.ToJsonString());
    }

    [Fact]
    public async Task The_key_is_taken_from_a_bearer_header_only()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/companies");
        request.Headers.TryAddWithoutValidation("Authorization", $"Basic {app.Keys[Role.Admin]}");

        var answer = await LedgerClient.WithKey(app, null).SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, answer.Status);
    }

    private Task<ApiAnswer> SendAsync(string? key, string method, string path)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (!HttpMethods.IsGet(method))
        {
            request.Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");
        }
        return LedgerClient.WithKey(app, key).SendAsync(request);
    }

    private List<(string Method, string Pattern)> MappedRoutes() =>
        app.Host.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"])
                .Select(m => (m, "/" + e.RoutePattern.RawText!.TrimStart('/'))))
            .Distinct()
            .ToList();

    [GeneratedRegex(@"\{[^}]+\}")]
    private static partial Regex Parameter();
}
