using System.Net;
using FlowLedger.Api.Tests.Fixtures;
using static FlowLedger.Api.Tests.Fixtures.LedgerClient;

namespace FlowLedger.Api.Tests;

/// <summary>Every event of SPEC §4 is a command: accepted through the API, stored once, read back as recorded.</summary>
public sealed class RecordingTests(AppFixture app) : IClassFixture<AppFixture>
{
    private readonly LedgerClient _api = LedgerClient.For(app);

    [Fact]
    public async Task Registering_a_company_answers_201_with_the_acknowledgement_and_lists_it()
    {
        var id = Ids.New("lab");
        var answer = await _api.PostAsync("/api/companies",
            new { companyId = id, name = "A Lab", kind = "ai-lab", ticker = "LAB", openingCash = Usd(1.5m), effectiveOn = "2024-02-01", source = "filing" });

        Assert.Equal(HttpStatusCode.Created, answer.Status);
        Assert.Equal(id, answer.Json["companyId"]!.GetValue<string>());
        Assert.True(answer.Json["sequence"]!.GetValue<long>() > 0);
        Assert.Equal(1, answer.Json["version"]!.GetValue<long>());
        Assert.Equal(AppFixture.Start.ToString(), answer.Json["recordedAt"]!.GetValue<string>());

        var companies = (await _api.GetAsync("/api/companies")).Json.AsArray();
        var listed = companies.Single(c => c!["companyId"]!.GetValue<string>() == id)!;
        Assert.Equal("ai-lab", listed["kind"]!.GetValue<string>());
        Assert.Equal(1.5m, listed["openingCash"]!["amount"]!.GetValue<decimal>());
        Assert.Equal("2024-02-01", listed["registeredOn"]!.GetValue<string>());
    }

    [Fact]
    public async Task Registering_the_same_company_twice_is_a_conflict()
    {
        var id = Ids.New("dup");
        await _api.RegisterAsync(id);
        var again = await _api.PostAsync("/api/companies", new { companyId = id, name = "Again", kind = "other", effectiveOn = "2024-01-01" });
        Assert.Equal(HttpStatusCode.Conflict, again.Status);
        Assert.Contains("already registered", again.Detail);
    }

    public static TheoryData<string, Func<string, string, object>> EveryDealEvent => new()
    {
        { "InvestmentAnnounced", (a, b) => new { type = "InvestmentAnnounced", investor = a, investee = b, upTo = Usd(100), instrument = "equity", milestones = new[] { "1 GW" }, effectiveOn = "2025-01-01" } },
        { "InvestmentFunded", (a, b) => new { type = "InvestmentFunded", investor = a, investee = b, amount = Usd(10), shares = 5, effectiveOn = "2025-01-02" } },
        { "WarrantsIssued", (a, b) => new { type = "WarrantsIssued", issuer = a, holder = b, shares = 100, strikePrice = Usd(0.01m), tranches = new[] { new { shares = 50, condition = "1 GW" } }, effectiveOn = "2025-01-03" } },
        { "PurchaseCommitted", (a, b) => new { type = "PurchaseCommitted", buyer = a, seller = b, amount = Usd(50), capacity = new { value = 1.5m, unit = "GW" }, effectiveOn = "2025-01-04" } },
        { "ChipsPurchased", (a, b) => new { type = "ChipsPurchased", buyer = a, vendor = b, chipModel = "MI450", units = 3, unitPrice = Usd(15000), effectiveOn = "2025-01-05" } },
        { "ServicesPaid", (a, b) => new { type = "ServicesPaid", payer = a, payee = b, amount = Usd(7), description = "cloud", effectiveOn = "2025-01-06" } },
        { "LoanDrawn", (a, b) => new { type = "LoanDrawn", lender = a, borrower = b, amount = Usd(40), effectiveOn = "2025-01-07" } },
        { "RevenueRecognized", (a, _) => new { type = "RevenueRecognized", company = a, amount = Usd(9), description = "subscriptions", effectiveOn = "2025-01-08" } },
        { "ExpenseIncurred", (a, _) => new { type = "ExpenseIncurred", company = a, amount = Usd(3), category = "payroll", effectiveOn = "2025-01-09" } },
        { "CommitmentCancelled", (_, _) => new { type = "CommitmentCancelled", reason = "deal off", effectiveOn = "2025-01-10" } },
    };

    [Theory]
    [MemberData(nameof(EveryDealEvent))]
    public async Task Every_deal_event_is_recorded_in_its_deal_stream_and_read_back_as_sent(string type, Func<string, string, object> body)
    {
        var (a, b, deal) = (Ids.New("a"), Ids.New("b"), Ids.New("deal"));
        await _api.RegisterAsync(a, b);

        var ack = await _api.RecordAsync(deal, body(a, b));

        Assert.Equal(deal, ack["dealId"]!.GetValue<string>());
        Assert.Equal(1, ack["version"]!.GetValue<long>());
        var recorded = Assert.Single(await _api.EventsAsync(deal))!;
        Assert.Equal(type, recorded["type"]!.GetValue<string>());
        Assert.Equal(ack["eventId"]!.GetValue<string>(), recorded["eventId"]!.GetValue<string>());
        Assert.Equal(ack["sequence"]!.GetValue<long>(), recorded["sequence"]!.GetValue<long>());
        Assert.Equal(AppFixture.KeyName(FlowLedger.Api.Security.Role.Writer), recorded["recordedBy"]!.GetValue<string>());
        Assert.Equal(AppFixture.Start.ToString(), recorded["recordedAt"]!.GetValue<string>());
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(
            System.Text.Json.Nodes.JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(body(a, b)))!.AsObject().Without("type"),
            recorded["data"]!.AsObject().WithoutNulls()),
            $"Stored {recorded["data"]}");
    }

    [Fact]
    public async Task Warrants_vest_and_exercise_and_loans_are_repaid_within_their_deal()
    {
        var (amd, lab, deal) = (Ids.New("amd"), Ids.New("lab"), Ids.New("deal"));
        await _api.RegisterAsync(amd, lab);
        await _api.RecordAsync(deal, new { type = "WarrantsIssued", issuer = amd, holder = lab, shares = 160, strikePrice = Usd(0.01m), effectiveOn = "2025-10-06" });
        await _api.RecordAsync(deal, new { type = "WarrantsVested", issuer = amd, holder = lab, shares = 60, effectiveOn = "2026-01-01" });
        await _api.RecordAsync(deal, new { type = "WarrantsExercised", issuer = amd, holder = lab, shares = 40, effectiveOn = "2026-02-01" });
        await _api.RecordAsync(deal, new { type = "LoanDrawn", lender = amd, borrower = lab, amount = Usd(10), effectiveOn = "2026-02-02" });
        var last = await _api.RecordAsync(deal, new { type = "LoanRepaid", lender = amd, borrower = lab, amount = Usd(4), effectiveOn = "2026-02-03" });
        Assert.Equal(5, last["version"]!.GetValue<long>());

        var state = (await _api.GetAsync($"/api/deals/{deal}")).Json;
        var warrants = state["warrants"]!.AsArray().Single()!;
        Assert.Equal(100, warrants["unvested"]!.GetValue<long>());
        Assert.Equal(20, warrants["vested"]!.GetValue<long>());
        Assert.Equal(40, warrants["exercised"]!.GetValue<long>());
        var loan = state["loans"]!.AsArray().Single()!;
        Assert.Equal(6m, loan["outstanding"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task Reversal_takes_back_an_event_on_its_own_day()
    {
        var (v, l, deal) = (Ids.New("v"), Ids.New("l"), Ids.New("deal"));
        await _api.RegisterAsync(v, l);
        var paid = await _api.RecordAsync(deal, new { type = "ServicesPaid", payer = l, payee = v, amount = Usd(5), description = "x", effectiveOn = "2025-04-01" });

        var reversal = await _api.PostAsync($"/api/events/{paid["eventId"]}/reversal", new { reason = "booked twice" });

        Assert.Equal(HttpStatusCode.Created, reversal.Status);
        Assert.Equal(deal, reversal.Json["dealId"]!.GetValue<string>());
        var stored = (await _api.EventsAsync(deal)).Last()!;
        Assert.Equal("EntryReversed", stored["type"]!.GetValue<string>());
        Assert.Equal("2025-04-01", stored["effectiveOn"]!.GetValue<string>());
        Assert.Equal(paid["eventId"]!.GetValue<string>(), stored["data"]!["eventId"]!.GetValue<string>());
    }

    [Fact]
    public async Task Events_filter_by_company_and_page_by_sequence()
    {
        var (v, l, x, deal) = (Ids.New("v"), Ids.New("l"), Ids.New("x"), Ids.New("deal"));
        await _api.RegisterAsync(v, l, x);
        var first = await _api.RecordAsync(deal, new { type = "ServicesPaid", payer = l, payee = v, amount = Usd(5), description = "x", effectiveOn = "2025-04-01" });
        await _api.RecordAsync(deal, new { type = "ServicesPaid", payer = x, payee = v, amount = Usd(6), description = "y", effectiveOn = "2025-04-02" });

        var ofL = (await _api.GetAsync($"/api/events?companyId={l}")).Json.AsArray();
        Assert.Equal(2, ofL.Count); // its registration and its payment
        Assert.Equal("CompanyRegistered", ofL[0]!["type"]!.GetValue<string>());
        Assert.Null(ofL[0]!["dealId"]);

        var afterFirst = (await _api.GetAsync($"/api/events?dealId={deal}&afterSequence={first["sequence"]}")).Json.AsArray();
        Assert.Equal(x, Assert.Single(afterFirst)!["data"]!["payer"]!.GetValue<string>());
    }
}
