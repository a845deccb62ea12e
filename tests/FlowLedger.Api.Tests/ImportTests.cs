using System.Net;
using FlowLedger.Api.Ledger;
using FlowLedger.Api.Tests.Fixtures;

namespace FlowLedger.Api.Tests;

/// <summary>POST /api/import: NDJSON, all or nothing, through the same rules as single commands.</summary>
public sealed class ImportTests(AppFixture app) : IClassFixture<AppFixture>
{
    private readonly LedgerClient _api = LedgerClient.For(app);

    private static string Lines(params string[] lines) => string.Join("\n", lines) + "\n";

    private static string Company(string id) =>
        $$"""{"type":"CompanyRegistered","companyId":"{{id}}","name":"{{id}}","kind":"other","effectiveOn":"2024-01-01"}""";

    private static string Payment(string deal, string from, string to, decimal amount, string? key = null) =>
        $$"""{"type":"ServicesPaid","dealId":"{{deal}}","payer":"{{from}}","payee":"{{to}}","amount":{"amount":{{amount}},"currency":"USD"},"description":"x","effectiveOn":"2025-01-01"{{(key is null ? "" : $",\"idempotencyKey\":\"{key}\"")}}}""";

    private Task<ApiAnswer> ImportAsync(string ndjson) => _api.PostRawAsync("/api/import", ndjson, contentType: "application/x-ndjson");

    [Fact]
    public async Task A_valid_import_is_accepted_whole_and_may_name_companies_registered_earlier_in_it()
    {
        var (a, b, deal) = (Ids.New("a"), Ids.New("b"), Ids.New("deal"));

        var answer = await ImportAsync(Lines(Company(a), Company(b), "", Payment(deal, a, b, 1), Payment(deal, b, a, 2)));

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal(4, answer.Json["accepted"]!.GetValue<int>());
        var recorded = await _api.EventsAsync(deal);
        Assert.Equal([1L, 2L], recorded.Select(e => e!["version"]!.GetValue<long>()));
    }

    [Fact]
    public async Task One_bad_line_rejects_the_whole_import_and_names_every_failing_line()
    {
        var (a, b, deal) = (Ids.New("a"), Ids.New("b"), Ids.New("deal"));
        var before = (await _api.EventsAsync()).Count;

        var answer = await ImportAsync(Lines(
            Company(a), Company(b),
            Payment(deal, a, b, 1),
            Payment(deal, a, "ghost-company", 1),
            """{"type":"ServicesPaid","dealId":"x","payer":""",
            Payment(deal, a, a, 1)));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, answer.Status);
        var lines = answer.Json["lines"]!.AsArray();
        Assert.Equal([5], lines.Select(l => l!["line"]!.GetValue<int>()));
        Assert.Equal(400, lines[0]!["status"]!.GetValue<int>());
        Assert.Equal(before, (await _api.EventsAsync()).Count);

        var ruleBreaks = await ImportAsync(Lines(Company(a), Company(b), Payment(deal, a, b, 1), Payment(deal, a, "ghost-company", 1), Payment(deal, a, a, 1)));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, ruleBreaks.Status);
        Assert.Equal([4, 5], ruleBreaks.Json["lines"]!.AsArray().Select(l => l!["line"]!.GetValue<int>()));
        Assert.Equal(before, (await _api.EventsAsync()).Count);
    }

    [Fact]
    public async Task A_deal_event_needs_a_deal_and_a_registration_takes_none()
    {
        var a = Ids.New("a");
        var answer = await ImportAsync(Lines(
            Company(a).Replace("{\"type\"", "{\"dealId\":\"d\",\"type\""),
            """{"type":"RevenueRecognized","company":"x","amount":{"amount":1,"currency":"USD"},"effectiveOn":"2025-01-01"}"""));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, answer.Status);
        Assert.Equal([1, 2], answer.Json["lines"]!.AsArray().Select(l => l!["line"]!.GetValue<int>()));
    }

    [Fact]
    public async Task Repeating_an_import_with_idempotency_keys_appends_nothing_the_second_time()
    {
        var (a, b, deal) = (Ids.New("a"), Ids.New("b"), Ids.New("deal"));
        await _api.RegisterAsync(a, b);
        var ndjson = Lines(Payment(deal, a, b, 1, key: $"{deal}-1"), Payment(deal, a, b, 2, key: $"{deal}-2"));

        Assert.Equal(HttpStatusCode.OK, (await ImportAsync(ndjson)).Status);
        var again = await ImportAsync(ndjson);

        Assert.Equal(HttpStatusCode.OK, again.Status);
        Assert.Equal(2, again.Json["accepted"]!.GetValue<int>());
        Assert.Equal(2, (await _api.EventsAsync(deal)).Count);

        var changed = await ImportAsync(Lines(Payment(deal, a, b, 3, key: $"{deal}-1")));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, changed.Status);
        Assert.Equal(409, changed.Json["lines"]![0]!["status"]!.GetValue<int>());
    }

    [Fact]
    public async Task An_empty_import_is_a_rejection_not_a_success()
    {
        var answer = await ImportAsync("\n\n");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, answer.Status);
    }

    /// <summary>Payments from <paramref name="from"/> to <paramref name="to"/>, one on each of <paramref name="count"/> deals named after <paramref name="prefix"/>.</summary>
    private static IEnumerable<string> PaymentsOnDeals(string prefix, int count, string from, string to) =>
        Enumerable.Range(0, count).Select(i => Payment($"{prefix}-{i}", from, to, i + 1));

    private Task<long> EventsOfDealsAsync(string prefix, string condition = "true") =>
        Sql.ScalarAsync<long>(app.ConnectionString, $"select count(*) from flowledger.mt_events where stream_id like '{prefix}-%' and {condition}");

    [Fact]
    public async Task An_import_over_more_deals_than_one_slice_continues_every_deals_history()
    {
        var (a, b, deals) = (Ids.New("a"), Ids.New("b"), Ids.New("deal"));
        var count = LedgerRecorder.DealsPerSlice * 2 + 100;
        Assert.Equal(HttpStatusCode.OK, (await ImportAsync(Lines([Company(a), Company(b), .. PaymentsOnDeals(deals, count, a, b)]))).Status);

        var again = await ImportAsync(Lines([.. PaymentsOnDeals(deals, count, b, a)]));

        Assert.Equal(HttpStatusCode.OK, again.Status);
        Assert.Equal(count, again.Json["accepted"]!.GetValue<int>());
        Assert.Equal(count, await EventsOfDealsAsync(deals, "version = 2"));
        Assert.Equal(count * 2, await EventsOfDealsAsync(deals));
        var cash = (await _api.GetAsync($"/api/companies/{a}/balance?asOf=2025-12-31")).Json["cash"]!["USD"]!;
        Assert.Equal(count * (count + 1) / 2, cash["in"]!.GetValue<decimal>());
        Assert.Equal(0m, cash["net"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task A_rule_broken_in_a_later_slice_refuses_the_whole_import_and_a_registration_counts_only_for_the_lines_after_it()
    {
        var (a, b, x, y, deals) = (Ids.New("a"), Ids.New("b"), Ids.New("x"), Ids.New("y"), Ids.New("deal"));
        await _api.RegisterAsync(a, b);
        var filler = LedgerRecorder.DealsPerSlice * 2;
        // The deals of the last two payments come after two slices' worth of others, so they are decided in a later slice
        // than the registrations around them.
        string[] lines =
        [
            Company(x),
            .. PaymentsOnDeals(deals, filler, a, b),
            Payment($"{deals}-x", x, a, 5),
            Payment($"{deals}-y", a, y, 7),
            Company(y),
        ];

        var refused = await ImportAsync(Lines(lines));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.Status);
        var failing = refused.Json["lines"]!.AsArray();
        Assert.Equal([filler + 3], failing.Select(l => l!["line"]!.GetValue<int>()));
        Assert.Contains(y, failing[0]!["detail"]!.GetValue<string>());
        Assert.Equal(0, await EventsOfDealsAsync(deals));
        Assert.Equal(HttpStatusCode.NotFound, (await _api.GetAsync($"/api/companies/{x}/balance")).Status);

        var accepted = await ImportAsync(Lines([.. lines.Where((_, i) => i != filler + 2)]));

        Assert.Equal(HttpStatusCode.OK, accepted.Status);
        Assert.Equal(filler + 1, await EventsOfDealsAsync(deals));
        Assert.Single(await _api.EventsAsync($"{deals}-x"));
    }
}

