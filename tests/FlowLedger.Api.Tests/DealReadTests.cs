using System.Net;
using FlowLedger.Api.Tests.Fixtures;
using static FlowLedger.Api.Tests.Fixtures.LedgerClient;

namespace FlowLedger.Api.Tests;

/// <summary>GET /api/deals/{dealId}: the deal as it stood on a day (asOf), as known at an instant (knownAt).</summary>
public sealed class DealReadTests(AppFixture app) : IClassFixture<AppFixture>
{
    private readonly LedgerClient _api = LedgerClient.For(app);

    [Fact]
    public async Task The_deal_shows_announced_funded_and_outstanding_as_of_each_day_and_as_known_at_each_instant()
    {
        var (nvidia, openai, deal) = (Ids.New("nvidia"), Ids.New("openai"), Ids.New("deal"));
        await _api.RegisterAsync(nvidia, openai);
        await _api.RecordAsync(deal, new { type = "InvestmentAnnounced", investor = nvidia, investee = openai, upTo = Usd(100), instrument = "equity", effectiveOn = "2025-09-22" });
        app.Clock.AdvanceHours(1);
        var funded = await _api.RecordAsync(deal, new { type = "InvestmentFunded", investor = nvidia, investee = openai, amount = Usd(10), shares = 1000, effectiveOn = "2025-10-15" });
        var knownBeforeBackdating = funded["recordedAt"]!.GetValue<string>();
        app.Clock.AdvanceHours(1);
        // Learned later: a tranche paid before the first one we knew of.
        var backdated = await _api.RecordAsync(deal, new { type = "InvestmentFunded", investor = nvidia, investee = openai, amount = Usd(5), effectiveOn = "2025-10-01" });
        app.Clock.AdvanceHours(1);
        await _api.RecordAsync(deal, new { type = "ChipsPurchased", buyer = openai, vendor = nvidia, chipModel = "GB200", units = 2, unitPrice = Usd(3), effectiveOn = "2025-11-01" });

        var latest = (await _api.GetAsync($"/api/deals/{deal}")).Json;
        Assert.Equal(15m, Announced(latest)["funded"]!.GetValue<decimal>());
        Assert.Equal(85m, Announced(latest)["outstanding"]!.GetValue<decimal>());
        Assert.Equal(4, latest["version"]!.GetValue<long>());
        Assert.Equal("GB200", latest["purchases"]![0]!["chipModel"]!.GetValue<string>());
        Assert.Equal(6m, latest["purchases"]![0]!["amount"]!["amount"]!.GetValue<decimal>());

        var onOctoberTenth = (await _api.GetAsync($"/api/deals/{deal}?asOf=2025-10-10")).Json;
        Assert.Equal(5m, Announced(onOctoberTenth)["funded"]!.GetValue<decimal>());
        Assert.Empty(onOctoberTenth["purchases"]!.AsArray());

        var asKnownBefore = (await _api.GetAsync($"/api/deals/{deal}?asOf=2025-10-31&knownAt={knownBeforeBackdating}")).Json;
        Assert.Equal(10m, Announced(asKnownBefore)["funded"]!.GetValue<decimal>());
        Assert.Equal(2, asKnownBefore["version"]!.GetValue<long>());
        Assert.Equal(knownBeforeBackdating, asKnownBefore["knownAt"]!.GetValue<string>());

        var knownBeforeReversal = app.Clock.GetCurrentInstant();
        app.Clock.AdvanceHours(1);
        Assert.Equal(HttpStatusCode.Created, (await _api.PostAsync($"/api/events/{backdated["eventId"]}/reversal", new { reason = "never paid" })).Status);
        var afterReversal = (await _api.GetAsync($"/api/deals/{deal}?asOf=2025-10-31")).Json;
        var beforeReversal = (await _api.GetAsync($"/api/deals/{deal}?asOf=2025-10-31&knownAt={knownBeforeReversal}")).Json;
        Assert.Equal(10m, Announced(afterReversal)["funded"]!.GetValue<decimal>());
        Assert.Equal(15m, Announced(beforeReversal)["funded"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task Cancelling_releases_every_outstanding_commitment_of_the_deal()
    {
        var (buyer, seller, deal) = (Ids.New("buyer"), Ids.New("seller"), Ids.New("deal"));
        await _api.RegisterAsync(buyer, seller);
        await _api.RecordAsync(deal, new { type = "PurchaseCommitted", buyer, seller, amount = Usd(300), capacity = new { value = 4.5m, unit = "GW" }, effectiveOn = "2025-09-10" });
        await _api.RecordAsync(deal, new { type = "ServicesPaid", payer = buyer, payee = seller, amount = Usd(20), description = "first year", effectiveOn = "2026-01-01" });
        await _api.RecordAsync(deal, new { type = "CommitmentCancelled", reason = "contract terminated", effectiveOn = "2026-06-30" });

        var before = (await _api.GetAsync($"/api/deals/{deal}?asOf=2026-06-29")).Json["commitments"]![0]!;
        var after = (await _api.GetAsync($"/api/deals/{deal}")).Json;
        Assert.Equal(280m, before["outstanding"]!.GetValue<decimal>());
        Assert.Equal(0m, after["commitments"]![0]!["outstanding"]!.GetValue<decimal>());
        Assert.Equal("2026-06-30", after["cancelledOn"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_deal_recorded_after_knownAt_is_not_found_then()
    {
        var (a, b, deal) = (Ids.New("a"), Ids.New("b"), Ids.New("deal"));
        await _api.RegisterAsync(a, b);
        var before = app.Clock.GetCurrentInstant();
        app.Clock.AdvanceSeconds(1);
        await _api.RecordAsync(deal, new { type = "ServicesPaid", payer = a, payee = b, amount = Usd(1), description = "x", effectiveOn = "2025-01-01" });

        Assert.Equal(HttpStatusCode.NotFound, (await _api.GetAsync($"/api/deals/{deal}?knownAt={before}")).Status);
    }

    [Fact]
    public async Task A_store_with_no_events_yet_lists_none()
    {
        await using var empty = new AppFixture(app.Server);
        await empty.InitializeAsync();

        Assert.Empty(await LedgerClient.For(empty).EventsAsync());
    }

    private static System.Text.Json.Nodes.JsonNode Announced(System.Text.Json.Nodes.JsonNode deal) => deal["announced"]!.AsArray().Single()!;
}
