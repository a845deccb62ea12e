using System.Net;
using System.Text.Json.Nodes;
using FlowLedger.Api.Tests.Fixtures;
using static FlowLedger.Api.Tests.Fixtures.LedgerClient;

namespace FlowLedger.Api.Tests;

/// <summary>SPEC §5 through the API: positions as of a day, as known at an instant.</summary>
public sealed class BalanceTests(AppFixture app) : IClassFixture<AppFixture>
{
    private readonly LedgerClient _api = LedgerClient.For(app);

    private async Task<JsonNode> BalanceAsync(string company, string query = "")
    {
        var answer = await _api.GetAsync($"/api/companies/{company}/balance{query}");
        Assert.True(answer.Status == HttpStatusCode.OK, $"{answer.Status}: {answer.Body}");
        return answer.Json;
    }

    private static decimal Cash(JsonNode balance, string field) => balance["cash"]?["USD"]?[field]?.GetValue<decimal>() ?? 0m;

    private static decimal Commitment(JsonNode balance, string field) => balance["commitments"]?["USD"]?[field]?.GetValue<decimal>() ?? 0m;

    private static JsonNode With(JsonNode balance, string counterparty) =>
        balance["counterparties"]!.AsArray().Single(c => c!["companyId"]!.GetValue<string>() == counterparty)!;

    [Fact]
    public async Task The_spec_example_shape_cash_commitments_warrants_and_counterparties()
    {
        var (openai, nvidia, amd) = (Ids.New("openai"), Ids.New("nvidia"), Ids.New("amd"));
        await _api.RegisterAsync(openai, nvidia, amd);
        var deal = Ids.New("deal");
        await _api.RecordAsync(deal, new { type = "InvestmentAnnounced", investor = nvidia, investee = openai, upTo = Usd(100), instrument = "equity", effectiveOn = "2025-09-22" });
        await _api.RecordAsync(deal, new { type = "PurchaseCommitted", buyer = openai, seller = nvidia, amount = Usd(60), effectiveOn = "2025-09-23" });
        await _api.RecordAsync(deal, new { type = "InvestmentFunded", investor = nvidia, investee = openai, amount = Usd(10), effectiveOn = "2025-10-01" });
        await _api.RecordAsync(deal, new { type = "ChipsPurchased", buyer = openai, vendor = nvidia, chipModel = "GB200", units = 4, unitPrice = Usd(5), effectiveOn = "2025-11-01" });
        await _api.RecordAsync(Ids.New("amd"), new { type = "WarrantsIssued", issuer = amd, holder = openai, shares = 160_000_000, strikePrice = Usd(0.01m), effectiveOn = "2025-10-06" });
        await _api.RecordAsync(Ids.New("ops"), new { type = "RevenueRecognized", company = openai, amount = Usd(30), effectiveOn = "2025-06-30" });
        await _api.RecordAsync(Ids.New("ops"), new { type = "ExpenseIncurred", company = openai, amount = Usd(16), category = "payroll", effectiveOn = "2025-12-31" });

        var balance = await BalanceAsync(openai, "?asOf=2025-12-31");

        Assert.Equal(openai, balance["companyId"]!.GetValue<string>());
        Assert.Equal("2025-12-31", balance["asOf"]!.GetValue<string>());
        Assert.Equal(app.Clock.GetCurrentInstant().ToString(), balance["knownAt"]!.GetValue<string>());
        Assert.Equal(40m, Cash(balance, "in"));
        Assert.Equal(36m, Cash(balance, "out"));
        Assert.Equal(4m, Cash(balance, "net"));
        Assert.Equal(90m, Commitment(balance, "receivable"));
        Assert.Equal(40m, Commitment(balance, "payable"));
        var warrants = balance["holdings"]!.AsArray().Single(h => h!["asset"]!.GetValue<string>() == $"warrants:{amd}")!;
        Assert.Equal(0m, warrants["vested"]!.GetValue<decimal>());
        Assert.Equal(160_000_000m, warrants["unvested"]!.GetValue<decimal>());
        var chips = balance["holdings"]!.AsArray().Single(h => h!["asset"]!.GetValue<string>() == "chips:GB200")!;
        Assert.Equal(4m, chips["quantity"]!.GetValue<decimal>());
        var withNvidia = With(balance, nvidia);
        Assert.Equal(20m, withNvidia["paid"]!.GetValue<decimal>());
        Assert.Equal(10m, withNvidia["received"]!.GetValue<decimal>());
        Assert.Equal(40m, withNvidia["committedTo"]!.GetValue<decimal>());
        Assert.Equal(90m, withNvidia["committedFrom"]!.GetValue<decimal>());

        var vendor = await BalanceAsync(nvidia, "?asOf=2025-12-31");
        Assert.Equal(-4m, vendor["holdings"]!.AsArray().Single(h => h!["asset"]!.GetValue<string>() == "chips:GB200")!["quantity"]!.GetValue<decimal>());
        Assert.Equal(40m, Commitment(vendor, "receivable"));
        Assert.Equal(90m, Commitment(vendor, "payable"));
    }

    [Fact]
    public async Task Opening_cash_counts_as_cash_in_from_its_registration_day()
    {
        var id = Ids.New("bank");
        await _api.PostAsync("/api/companies", new { companyId = id, name = "Bank", kind = "bank", effectiveOn = "2025-03-01", openingCash = Usd(1000) });

        Assert.Equal(0m, Cash(await BalanceAsync(id, "?asOf=2025-02-28"), "in"));
        Assert.Equal(1000m, Cash(await BalanceAsync(id, "?asOf=2025-03-01"), "net"));
    }

    [Fact]
    public async Task Loans_show_as_debt_lent_and_owed()
    {
        var (bank, lab, deal) = await _api.NewPartiesAsync();
        await _api.RecordAsync(deal, new { type = "LoanDrawn", lender = bank, borrower = lab, amount = Usd(100), effectiveOn = "2025-01-01" });
        await _api.RecordAsync(deal, new { type = "LoanRepaid", lender = bank, borrower = lab, amount = Usd(30), effectiveOn = "2025-06-01" });

        var lender = await BalanceAsync(bank);
        var borrower = await BalanceAsync(lab);
        Assert.Equal(70m, lender["holdings"]!.AsArray().Single(h => h!["asset"]!.GetValue<string>() == "loan:USD")!["quantity"]!.GetValue<decimal>());
        Assert.Equal(-70m, borrower["holdings"]!.AsArray().Single(h => h!["asset"]!.GetValue<string>() == "loan:USD")!["quantity"]!.GetValue<decimal>());
        Assert.Equal(70m, Cash(borrower, "net"));
    }

    [Fact]
    public async Task A_backdated_event_changes_today_s_view_of_the_past_but_not_the_view_known_before_it()
    {
        var (investor, lab, deal) = await _api.NewPartiesAsync();
        await _api.RecordAsync(deal, new { type = "InvestmentAnnounced", investor, investee = lab, upTo = Usd(100), instrument = "equity", effectiveOn = "2025-01-01" });
        app.Clock.AdvanceHours(1);
        var first = await _api.RecordAsync(deal, new { type = "InvestmentFunded", investor, investee = lab, amount = Usd(30), effectiveOn = "2025-06-01" });
        app.Clock.AdvanceHours(1);
        await _api.RecordAsync(deal, new { type = "InvestmentFunded", investor, investee = lab, amount = Usd(20), effectiveOn = "2025-03-01" });

        var before = $"?asOf=2025-12-31&knownAt={first["recordedAt"]}";
        Assert.Equal(30m, Cash(await BalanceAsync(lab, before), "in"));
        Assert.Equal(70m, Commitment(await BalanceAsync(lab, before), "receivable"));
        Assert.Equal(50m, Cash(await BalanceAsync(lab, "?asOf=2025-12-31"), "in"));
        Assert.Equal(50m, Commitment(await BalanceAsync(lab, "?asOf=2025-12-31"), "receivable"));
        Assert.Equal(20m, Cash(await BalanceAsync(lab, "?asOf=2025-04-01"), "in"));
        Assert.Equal(0m, Cash(await BalanceAsync(lab, $"?asOf=2025-04-01&knownAt={first["recordedAt"]}"), "in"));
    }

    [Fact]
    public async Task A_backdated_commitment_changes_what_later_payments_released_only_from_when_it_was_known()
    {
        var (buyer, seller, deal) = await _api.NewPartiesAsync();
        var payment = await _api.RecordAsync(deal, new { type = "ServicesPaid", payer = buyer, payee = seller, amount = Usd(40), description = "x", effectiveOn = "2025-06-01" });
        app.Clock.AdvanceHours(1);
        // Learned later: the payment was made under a contract signed before it.
        await _api.RecordAsync(deal, new { type = "PurchaseCommitted", buyer, seller, amount = Usd(100), effectiveOn = "2025-01-01" });

        Assert.Equal(60m, Commitment(await BalanceAsync(buyer), "payable"));
        Assert.Equal(0m, Commitment(await BalanceAsync(buyer, $"?knownAt={payment["recordedAt"]}"), "payable"));
        Assert.Equal(100m, Commitment(await BalanceAsync(buyer, "?asOf=2025-05-31"), "payable"));
    }

    [Fact]
    public async Task A_reversal_removes_its_target_only_as_known_from_the_reversal_on()
    {
        var (payer, payee, deal) = await _api.NewPartiesAsync();
        var paid = await _api.RecordAsync(deal, new { type = "ServicesPaid", payer, payee, amount = Usd(25), description = "x", effectiveOn = "2025-02-01" });
        app.Clock.AdvanceHours(1);
        var knownBefore = app.Clock.GetCurrentInstant();
        app.Clock.AdvanceHours(1);
        Assert.Equal(HttpStatusCode.Created, (await _api.PostAsync($"/api/events/{paid["eventId"]}/reversal", new { reason = "duplicate" })).Status);

        Assert.Equal(0m, Cash(await BalanceAsync(payee), "in"));
        Assert.Equal(25m, Cash(await BalanceAsync(payee, $"?knownAt={knownBefore}"), "in"));
        Assert.Equal(25m, Cash(await BalanceAsync(payee, $"?asOf=2025-02-01&knownAt={knownBefore}"), "in"));
    }

    [Fact]
    public async Task Events_of_the_same_day_apply_in_recorded_order()
    {
        var (buyer, seller, deal) = await _api.NewPartiesAsync();
        // The payment is recorded first, so on that day it comes before the commitment and settles nothing.
        await _api.RecordAsync(deal, new { type = "ServicesPaid", payer = buyer, payee = seller, amount = Usd(10), description = "x", effectiveOn = "2025-05-05" });
        await _api.RecordAsync(deal, new { type = "PurchaseCommitted", buyer, seller, amount = Usd(100), effectiveOn = "2025-05-05" });

        Assert.Equal(100m, Commitment(await BalanceAsync(buyer), "payable"));
    }

    [Fact]
    public async Task Cancelling_a_deal_releases_its_outstanding_commitments_from_that_day()
    {
        var (buyer, seller, deal) = await _api.NewPartiesAsync();
        await _api.RecordAsync(deal, new { type = "PurchaseCommitted", buyer, seller, amount = Usd(100), effectiveOn = "2025-01-01" });
        await _api.RecordAsync(deal, new { type = "CommitmentCancelled", reason = "terminated", effectiveOn = "2025-07-01" });

        Assert.Equal(100m, Commitment(await BalanceAsync(seller, "?asOf=2025-06-30"), "receivable"));
        Assert.Equal(0m, Commitment(await BalanceAsync(seller), "receivable"));
    }

    [Fact]
    public async Task All_balances_list_every_company_and_an_unknown_company_is_not_found()
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        await _api.RecordAsync(deal, new { type = "ServicesPaid", payer = a, payee = b, amount = Usd(3), description = "x", effectiveOn = "2025-05-05" });

        var all = (await _api.GetAsync("/api/balances?asOf=2025-12-31")).Json;
        var companies = all["companies"]!.AsArray();
        Assert.Equal(3m, Cash(companies.Single(c => c!["companyId"]!.GetValue<string>() == b)!, "in"));
        Assert.Equal(HttpStatusCode.NotFound, (await _api.GetAsync("/api/companies/nobody/balance")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await _api.GetAsync($"/api/companies/{a}/balance?asOf=31-12-2025")).Status);
    }
}
