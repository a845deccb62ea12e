using System.Text.Json.Nodes;
using FlowLedger.Api.Tests.Fixtures;
using static FlowLedger.Api.Tests.Fixtures.LedgerClient;

namespace FlowLedger.Api.Tests;

/// <summary>GET /api/replay: the visible events in the order of SPEC §2, each with the balances it changed.</summary>
public sealed class ReplayTests(AppFixture app) : IClassFixture<AppFixture>
{
    private readonly LedgerClient _api = LedgerClient.For(app);

    private async Task<List<JsonNode>> ReplayAsync(string query)
    {
        var response = await app.CreateClient(FlowLedger.Api.Security.Role.Reader).GetAsync($"/api/replay{query}", TestContext.Current.CancellationToken);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonNode.Parse(line)!).ToList();
    }

    [Fact]
    public async Task Events_stream_in_valid_time_order_with_the_balances_they_changed()
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        await _api.RecordAsync(deal, new { type = "ServicesPaid", payer = a, payee = b, amount = Usd(5), description = "second", effectiveOn = "2025-03-01" });
        app.Clock.AdvanceMinutes(1);
        await _api.RecordAsync(deal, new { type = "ServicesPaid", payer = a, payee = b, amount = Usd(7), description = "first, learned later", effectiveOn = "2025-02-01" });
        await _api.RecordAsync(deal, new { type = "ServicesPaid", payer = b, payee = a, amount = Usd(1), description = "after the window", effectiveOn = "2025-12-01" });

        var lines = (await ReplayAsync("?from=2025-01-01&to=2025-06-30")).Where(l => l["dealId"]?.GetValue<string>() == deal).ToList();

        Assert.Equal(["first, learned later", "second"], lines.Select(l => l["data"]!["description"]!.GetValue<string>()));
        var afterSecond = lines[1]["balances"]!.AsArray().Single(x => x!["companyId"]!.GetValue<string>() == b)!;
        Assert.Equal(12m, afterSecond["cash"]!["USD"]!["in"]!.GetValue<decimal>());
        Assert.Equal(2, lines[1]["balances"]!.AsArray().Count);
    }

    [Fact]
    public async Task Events_before_from_are_folded_but_not_streamed()
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        await _api.RecordAsync(deal, new { type = "ServicesPaid", payer = a, payee = b, amount = Usd(5), description = "early", effectiveOn = "2024-06-01" });
        await _api.RecordAsync(deal, new { type = "ServicesPaid", payer = a, payee = b, amount = Usd(7), description = "in window", effectiveOn = "2025-02-01" });

        var line = Assert.Single(await ReplayAsync("?from=2025-01-01"), l => l["dealId"]?.GetValue<string>() == deal);

        var payee = line["balances"]!.AsArray().Single(x => x!["companyId"]!.GetValue<string>() == b)!;
        Assert.Equal(12m, payee["cash"]!["USD"]!["in"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task An_empty_window_is_an_empty_stream_and_a_bad_day_names_the_parameter()
    {
        Assert.Empty(await ReplayAsync("?from=2030-01-01&to=2030-01-02"));

        var bad = await _api.GetAsync("/api/replay?to=2025-13-01");
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, bad.Status);
        Assert.StartsWith("to '2025-13-01'", bad.Detail);
    }
}
