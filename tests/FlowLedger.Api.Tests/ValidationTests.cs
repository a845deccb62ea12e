using System.Net;
using FlowLedger.Api.Tests.Fixtures;
using static FlowLedger.Api.Tests.Fixtures.LedgerClient;

namespace FlowLedger.Api.Tests;

/// <summary>
/// Every validation rule of SPEC §4: a refused command answers RFC 9457 problem details with the
/// status of §9 and appends nothing.
/// </summary>
public sealed class ValidationTests(AppFixture app) : IClassFixture<AppFixture>
{
    private readonly LedgerClient _api = LedgerClient.For(app);


    /// <summary>Sends a body that must be refused with <paramref name="status"/> and leave the store as it was.</summary>
    private async Task<ApiAnswer> AssertRefusedAsync(string url, string body, HttpStatusCode status, string detailContains)
    {
        var before = (await _api.EventsAsync()).Count;
        var answer = await _api.PostRawAsync(url, body);

        Assert.Equal(status, answer.Status);
        Assert.Equal("application/problem+json", answer.Response.Content.Headers.ContentType?.MediaType);
        Assert.Equal((int)status, answer.Json["status"]!.GetValue<int>());
        Assert.Contains(detailContains, answer.Detail, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(before, (await _api.EventsAsync()).Count);
        return answer;
    }

    private static string Json(object body) => System.Text.Json.JsonSerializer.Serialize(body);

    [Fact]
    public async Task An_unknown_company_is_refused()
    {
        var (a, _, deal) = await _api.NewPartiesAsync();
        await AssertRefusedAsync($"/api/deals/{deal}/events",
            Json(new { type = "ServicesPaid", payer = a, payee = "nobody-here", amount = Usd(1), description = "x", effectiveOn = "2025-01-01" }),
            HttpStatusCode.UnprocessableEntity, "Unknown company 'nobody-here'");
    }

    [Fact]
    public async Task A_party_paying_itself_is_refused()
    {
        var (a, _, deal) = await _api.NewPartiesAsync();
        await AssertRefusedAsync($"/api/deals/{deal}/events",
            Json(new { type = "ServicesPaid", payer = a, payee = a, amount = Usd(1), description = "x", effectiveOn = "2025-01-01" }),
            HttpStatusCode.UnprocessableEntity, "cannot deal with itself");
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("-0.0000000001")]
    public async Task An_amount_of_zero_or_less_is_refused(string amount)
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        await AssertRefusedAsync($"/api/deals/{deal}/events",
            $$"""{"type":"InvestmentFunded","investor":"{{a}}","investee":"{{b}}","amount":{"amount":{{amount}},"currency":"USD"},"effectiveOn":"2025-01-01"}""",
            HttpStatusCode.UnprocessableEntity, "more than zero");
    }

    [Theory]
    [InlineData("WarrantsIssued", "shares", """ "strikePrice":{"amount":1,"currency":"USD"}, """)]
    [InlineData("WarrantsVested", "shares", "")]
    [InlineData("WarrantsExercised", "shares", "")]
    public async Task Shares_of_zero_or_less_are_refused(string type, string field, string extra)
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        await AssertRefusedAsync($"/api/deals/{deal}/events",
            $$"""{"type":"{{type}}","issuer":"{{a}}","holder":"{{b}}",{{extra}}"{{field}}":0,"effectiveOn":"2025-01-01"}""",
            HttpStatusCode.UnprocessableEntity, "shares must be more than zero");
    }

    [Fact]
    public async Task Units_of_zero_or_less_are_refused()
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        await AssertRefusedAsync($"/api/deals/{deal}/events",
            Json(new { type = "ChipsPurchased", buyer = a, vendor = b, chipModel = "H100", units = -1, unitPrice = Usd(30000), effectiveOn = "2025-01-01" }),
            HttpStatusCode.UnprocessableEntity, "units must be more than zero");
    }

    [Theory]
    [InlineData("usd")]
    [InlineData("US")]
    [InlineData("DOLLARS")]
    public async Task A_malformed_currency_is_a_bad_request(string currency)
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        await AssertRefusedAsync($"/api/deals/{deal}/events",
            Json(new { type = "ServicesPaid", payer = a, payee = b, amount = new { amount = 1, currency }, description = "x", effectiveOn = "2025-01-01" }),
            HttpStatusCode.BadRequest, "ISO 4217");
    }

    [Theory]
    [InlineData("2025-13-01")]
    [InlineData("01/02/2025")]
    [InlineData("2025-02-30")]
    [InlineData("yesterday")]
    public async Task A_malformed_date_is_a_bad_request(string date)
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        await AssertRefusedAsync($"/api/deals/{deal}/events",
            Json(new { type = "ServicesPaid", payer = a, payee = b, amount = Usd(1), description = "x", effectiveOn = date }),
            HttpStatusCode.BadRequest, "effectiveOn");
    }

    [Theory]
    [InlineData("""{"type":"ServicesPaid","payer":"a" """, "not valid JSON")]
    [InlineData("""[1,2,3]""", "JSON object")]
    [InlineData("""{"payer":"a"}""", "\"type\" is required")]
    [InlineData("""{"type":"MoneyPrinted"}""", "Unknown event type 'MoneyPrinted'")]
    [InlineData("""{"type":"ServicesPaid","payer":"a","payee":"b","description":"x","effectiveOn":"2025-01-01"}""", "amount")]
    [InlineData("""{"type":"ServicesPaid","payer":"a","payee":"b","amount":{"amount":"1","currency":"USD"},"description":"x","effectiveOn":"2025-01-01"}""", "amount")]
    [InlineData("""{"type":"ServicesPaid","payer":"a","payee":"b","amount":{"amount":1e30,"currency":"USD"},"description":"x","effectiveOn":"2025-01-01"}""", "amount")]
    [InlineData("""{"type":"ServicesPaid","payer":"a","payee":"b","amount":{"amount":1,"currency":"USD"},"description":"x","effectiveOn":"2025-01-01","ammount":2}""", "ammount")]
    [InlineData("""{"type":"CompanyRegistered","companyId":"x","name":"X","kind":"other","effectiveOn":"2025-01-01"}""", "POST /api/companies")]
    [InlineData("""{"type":"ServicesPaid","payer":null,"payee":"b","amount":{"amount":1,"currency":"USD"},"description":"x","effectiveOn":"2025-01-01"}""", "payer")]
    public async Task Unreadable_bodies_are_bad_requests(string body, string detailContains)
    {
        await AssertRefusedAsync($"/api/deals/{Ids.New("deal")}/events", body, HttpStatusCode.BadRequest, detailContains);
    }

    [Theory]
    [InlineData("Not_A_Slug")]
    [InlineData("with space")]
    public async Task A_company_id_must_be_a_slug(string companyId)
    {
        await AssertRefusedAsync("/api/companies",
            Json(new { companyId, name = "X", kind = "other", effectiveOn = "2025-01-01" }), HttpStatusCode.BadRequest, "must match");
    }

    [Fact]
    public async Task An_unknown_company_kind_is_a_bad_request()
    {
        await AssertRefusedAsync("/api/companies",
            Json(new { companyId = Ids.New("k"), name = "X", kind = "hedge-fund", effectiveOn = "2025-01-01" }), HttpStatusCode.BadRequest, "kind");
    }

    [Fact]
    public async Task Funding_beyond_the_announced_amount_is_refused_even_when_it_adds_up_over_several_fundings()
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        await _api.RecordAsync(deal, new { type = "InvestmentAnnounced", investor = a, investee = b, upTo = Usd(100), instrument = "equity", effectiveOn = "2025-01-01" });
        await _api.RecordAsync(deal, new { type = "InvestmentFunded", investor = a, investee = b, amount = Usd(60), effectiveOn = "2025-02-01" });

        await AssertRefusedAsync($"/api/deals/{deal}/events",
            Json(new { type = "InvestmentFunded", investor = a, investee = b, amount = Usd(40.01m), effectiveOn = "2025-03-01" }),
            HttpStatusCode.UnprocessableEntity, "beyond the 100 USD announced");
        await _api.RecordAsync(deal, new { type = "InvestmentFunded", investor = a, investee = b, amount = Usd(40), effectiveOn = "2025-03-01" });
    }

    [Fact]
    public async Task Funding_in_another_deal_is_not_held_to_this_deal_s_announcement()
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        await _api.RecordAsync(deal, new { type = "InvestmentAnnounced", investor = a, investee = b, upTo = Usd(1), instrument = "debt", effectiveOn = "2025-01-01" });
        await _api.RecordAsync(Ids.New("other"), new { type = "InvestmentFunded", investor = a, investee = b, amount = Usd(50), effectiveOn = "2025-02-01" });
    }

    [Fact]
    public async Task Vesting_more_than_unvested_and_exercising_more_than_vested_are_refused()
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        await _api.RecordAsync(deal, new { type = "WarrantsIssued", issuer = a, holder = b, shares = 10, strikePrice = Usd(1), effectiveOn = "2025-01-01" });

        await AssertRefusedAsync($"/api/deals/{deal}/events",
            Json(new { type = "WarrantsVested", issuer = a, holder = b, shares = 11, effectiveOn = "2025-02-01" }),
            HttpStatusCode.UnprocessableEntity, "only 10 are unvested");
        await _api.RecordAsync(deal, new { type = "WarrantsVested", issuer = a, holder = b, shares = 4, effectiveOn = "2025-02-01" });
        await AssertRefusedAsync($"/api/deals/{deal}/events",
            Json(new { type = "WarrantsExercised", issuer = a, holder = b, shares = 5, effectiveOn = "2025-03-01" }),
            HttpStatusCode.UnprocessableEntity, "only 4 are vested");
    }

    [Fact]
    public async Task A_vesting_backdated_before_its_warrants_were_issued_is_refused()
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        await _api.RecordAsync(deal, new { type = "WarrantsIssued", issuer = a, holder = b, shares = 10, strikePrice = Usd(1), effectiveOn = "2025-06-01" });

        await AssertRefusedAsync($"/api/deals/{deal}/events",
            Json(new { type = "WarrantsVested", issuer = a, holder = b, shares = 5, effectiveOn = "2025-05-31" }),
            HttpStatusCode.UnprocessableEntity, "only 0 are unvested");
    }

    [Fact]
    public async Task Repaying_more_than_was_drawn_is_refused()
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        await _api.RecordAsync(deal, new { type = "LoanDrawn", lender = a, borrower = b, amount = Usd(10), effectiveOn = "2025-01-01" });
        await AssertRefusedAsync($"/api/deals/{deal}/events",
            Json(new { type = "LoanRepaid", lender = a, borrower = b, amount = Usd(10.5m), effectiveOn = "2025-02-01" }),
            HttpStatusCode.UnprocessableEntity, "owes only 10 USD");
    }

    [Fact]
    public async Task Reversing_an_unknown_event_is_not_found()
    {
        var unknown = Guid.NewGuid();
        await AssertRefusedAsync($"/api/events/{unknown}/reversal", Json(new { reason = "typo" }), HttpStatusCode.NotFound, unknown.ToString());
        await AssertRefusedAsync("/api/events/not-a-guid/reversal", Json(new { reason = "typo" }), HttpStatusCode.BadRequest, "not an event id");
    }

    [Fact]
    public async Task Reversing_a_reversal_or_reversing_twice_is_refused()
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        var paid = await _api.RecordAsync(deal, new { type = "ServicesPaid", payer = a, payee = b, amount = Usd(5), description = "x", effectiveOn = "2025-04-01" });
        var reversal = (await _api.PostAsync($"/api/events/{paid["eventId"]}/reversal", new { reason = "duplicate" })).Json;

        await AssertRefusedAsync($"/api/events/{paid["eventId"]}/reversal", Json(new { reason = "again" }),
            HttpStatusCode.UnprocessableEntity, "already reversed");
        await AssertRefusedAsync($"/api/events/{reversal["eventId"]}/reversal", Json(new { reason = "undo" }),
            HttpStatusCode.UnprocessableEntity, "reversals cannot be reversed");
    }

    [Fact]
    public async Task Reversing_an_announcement_that_a_funding_relies_on_is_refused()
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        await _api.RecordAsync(deal, new { type = "InvestmentAnnounced", investor = a, investee = b, upTo = Usd(100), instrument = "equity", effectiveOn = "2025-01-01" });
        var second = await _api.RecordAsync(deal, new { type = "InvestmentAnnounced", investor = a, investee = b, upTo = Usd(50), instrument = "equity", effectiveOn = "2025-01-02" });
        await _api.RecordAsync(deal, new { type = "InvestmentFunded", investor = a, investee = b, amount = Usd(120), effectiveOn = "2025-02-01" });

        await AssertRefusedAsync($"/api/events/{second["eventId"]}/reversal", Json(new { reason = "never signed" }),
            HttpStatusCode.UnprocessableEntity, "beyond the 100 USD announced");
    }

    [Fact]
    public async Task A_company_registration_cannot_be_reversed()
    {
        var id = Ids.New("c");
        var registered = await _api.PostAsync("/api/companies", new { companyId = id, name = "C", kind = "bank", effectiveOn = "2025-01-01" });
        await AssertRefusedAsync($"/api/events/{registered.Json["eventId"]}/reversal", Json(new { reason = "oops" }),
            HttpStatusCode.UnprocessableEntity, "cannot be reversed");
    }

    [Fact]
    public async Task Bad_query_values_are_bad_requests_not_server_errors()
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        await _api.RecordAsync(deal, new { type = "ServicesPaid", payer = a, payee = b, amount = Usd(5), description = "x", effectiveOn = "2025-04-01" });

        Assert.Equal(HttpStatusCode.BadRequest, (await _api.GetAsync($"/api/deals/{deal}?asOf=2025-02-31")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await _api.GetAsync($"/api/deals/{deal}?knownAt=tomorrow")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await _api.GetAsync("/api/events?limit=abc")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await _api.GetAsync("/api/events?limit=0")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _api.GetAsync($"/api/deals/{Ids.New("none")}")).Status);
    }

    // Found by the hostile corpus (HostileInputTests): each was a 500 or an event that should not exist.

    [Theory]
    [InlineData("-0001-01-01", "is not between 1900-01-01 and 2999-12-31")]
    [InlineData("2025-01-01\\u0000", "NUL")]
    public async Task A_day_out_of_range_or_ending_in_nul_is_malformed(string day, string detail)
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        await AssertRefusedAsync($"/api/deals/{deal}/events",
            $$"""{"type":"LoanDrawn","lender":"{{a}}","borrower":"{{b}}","amount":{"amount":20,"currency":"USD"},"effectiveOn":"{{day}}"}""",
            HttpStatusCode.BadRequest, detail);
    }

    [Theory]
    [InlineData("0.0000000001", "more than 6 decimal places")]
    [InlineData("79228162514264337593543950335", "must be at most 1000000000000000")]
    [InlineData("1e30", "not valid")]
    public async Task Amounts_finer_than_a_millionth_or_beyond_ten_to_the_fifteenth_are_malformed(string amount, string detail)
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        await AssertRefusedAsync($"/api/deals/{deal}/events",
            $$"""{"type":"ServicesPaid","payer":"{{a}}","payee":"{{b}}","amount":{"amount":{{amount}},"currency":"USD"},"description":"x","effectiveOn":"2025-01-01"}""",
            HttpStatusCode.BadRequest, detail);
    }

    [Fact]
    public async Task Chips_whose_total_price_would_overflow_are_malformed()
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        await AssertRefusedAsync($"/api/deals/{deal}/events",
            Json(new { type = "ChipsPurchased", buyer = a, vendor = b, chipModel = "H100", units = long.MaxValue, unitPrice = Usd(1_000_000_000_000_000m), effectiveOn = "2025-01-01" }),
            HttpStatusCode.BadRequest, "units × unitPrice must be at most");
    }

    [Fact]
    public async Task A_body_that_is_not_labelled_json_is_refused_with_415()
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        var answer = await _api.PostRawAsync($"/api/deals/{deal}/events",
            Json(new { type = "ServicesPaid", payer = a, payee = b, amount = Usd(1), description = "x", effectiveOn = "2025-01-01" }), contentType: "text/plain");

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, answer.Status);
        Assert.Equal("application/problem+json", answer.Response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(await _api.EventsAsync(deal));
    }
}
