using System.Net;
using FlowLedger.Api.Tests.Fixtures;
using static FlowLedger.Api.Tests.Fixtures.LedgerClient;

namespace FlowLedger.Api.Tests;

/// <summary>SPEC §9: Idempotency-Key and expectedVersion, including when requests race.</summary>
public sealed class IdempotencyAndConcurrencyTests(AppFixture app) : IClassFixture<AppFixture>
{
    private readonly LedgerClient _api = LedgerClient.For(app);


    private static object Payment(string a, string b, decimal amount) =>
        new { type = "ServicesPaid", payer = a, payee = b, amount = Usd(amount), description = "compute", effectiveOn = "2025-05-01" };

    [Fact]
    public async Task The_same_key_and_body_returns_the_first_answer_and_appends_nothing()
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        var key = Guid.NewGuid().ToString();

        var first = await _api.PostAsync($"/api/deals/{deal}/events", Payment(a, b, 5), key);
        app.Clock.AdvanceMinutes(5);
        var second = await _api.PostAsync($"/api/deals/{deal}/events", Payment(a, b, 5), key);

        Assert.Equal(HttpStatusCode.Created, first.Status);
        Assert.Equal(HttpStatusCode.Created, second.Status);
        Assert.Equal(first.Json.ToJsonString(), second.Json.ToJsonString());
        Assert.Single(await _api.EventsAsync(deal));
    }

    [Fact]
    public async Task The_same_key_with_another_body_is_a_conflict()
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        var key = Guid.NewGuid().ToString();
        await _api.PostAsync($"/api/deals/{deal}/events", Payment(a, b, 5), key);

        var other = await _api.PostAsync($"/api/deals/{deal}/events", Payment(a, b, 6), key);

        Assert.Equal(HttpStatusCode.Conflict, other.Status);
        Assert.Contains("already used for a different request", other.Detail);
        Assert.Single(await _api.EventsAsync(deal));
    }

    [Fact]
    public async Task Racing_requests_with_one_key_record_once_and_all_get_the_same_answer()
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        var key = Guid.NewGuid().ToString();

        var answers = await Task.WhenAll(Enumerable.Range(0, 12)
            .Select(_ => Task.Run(() => _api.PostAsync($"/api/deals/{deal}/events", Payment(a, b, 5), key))));

        Assert.All(answers, answer => Assert.Equal(HttpStatusCode.Created, answer.Status));
        Assert.Single(answers.Select(answer => answer.Json.ToJsonString()).Distinct());
        Assert.Single(await _api.EventsAsync(deal));
    }

    [Fact]
    public async Task A_stale_expected_version_is_a_conflict_and_the_current_one_is_accepted()
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        var first = await _api.RecordAsync(deal, Payment(a, b, 1));
        await _api.RecordAsync(deal, Payment(a, b, 2));

        var stale = await _api.PostAsync($"/api/deals/{deal}/events",
            new { type = "ServicesPaid", payer = a, payee = b, amount = Usd(3), description = "x", effectiveOn = "2025-05-02", expectedVersion = first["version"]!.GetValue<long>() });
        var current = await _api.PostAsync($"/api/deals/{deal}/events",
            new { type = "ServicesPaid", payer = a, payee = b, amount = Usd(3), description = "x", effectiveOn = "2025-05-02", expectedVersion = 2 });

        Assert.Equal(HttpStatusCode.Conflict, stale.Status);
        Assert.Contains("at version 2, not the expected 1", stale.Detail);
        Assert.Equal(HttpStatusCode.Created, current.Status);
        Assert.Equal(3, current.Json["version"]!.GetValue<long>());
    }

    [Fact]
    public async Task Expected_version_zero_means_the_deal_must_not_exist_yet()
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        var created = await _api.PostAsync($"/api/deals/{deal}/events",
            new { type = "ServicesPaid", payer = a, payee = b, amount = Usd(3), description = "x", effectiveOn = "2025-05-02", expectedVersion = 0 });
        var again = await _api.PostAsync($"/api/deals/{deal}/events",
            new { type = "ServicesPaid", payer = a, payee = b, amount = Usd(3), description = "x", effectiveOn = "2025-05-02", expectedVersion = 0 });

        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.Equal(HttpStatusCode.Conflict, again.Status);
    }

    [Fact]
    public async Task Concurrent_writers_on_one_deal_lose_no_update_and_can_never_fund_beyond_the_announcement()
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        await _api.RecordAsync(deal, new { type = "InvestmentAnnounced", investor = a, investee = b, upTo = Usd(100), instrument = "equity", effectiveOn = "2025-01-01" });

        // 16 writers each fund 10 at once: every one is valid alone, only 10 fit together.
        var answers = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => _api.PostAsync($"/api/deals/{deal}/events",
            new { type = "InvestmentFunded", investor = a, investee = b, amount = Usd(10), effectiveOn = "2025-02-01" }))));

        Assert.Equal(10, answers.Count(x => x.Status == HttpStatusCode.Created));
        Assert.Equal(6, answers.Count(x => x.Status == HttpStatusCode.UnprocessableEntity));
        var versions = answers.Where(x => x.Status == HttpStatusCode.Created).Select(x => x.Json["version"]!.GetValue<long>()).Order();
        Assert.Equal(Enumerable.Range(2, 10).Select(v => (long)v), versions);
        var state = (await _api.GetAsync($"/api/deals/{deal}")).Json;
        Assert.Equal(100m, state["announced"]![0]!["funded"]!.GetValue<decimal>());
        Assert.Equal(0m, state["announced"]![0]!["outstanding"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task Concurrent_writers_across_deals_all_land()
    {
        var (a, b, _) = await _api.NewPartiesAsync();
        var deals = Enumerable.Range(0, 16).Select(_ => Ids.New("deal")).ToArray();

        var answers = await Task.WhenAll(deals.Select(deal => Task.Run(() => _api.PostAsync($"/api/deals/{deal}/events", Payment(a, b, 1)))));

        Assert.All(answers, answer => Assert.Equal(HttpStatusCode.Created, answer.Status));
        Assert.Equal(16, answers.Select(x => x.Json["sequence"]!.GetValue<long>()).Distinct().Count());
    }
}
