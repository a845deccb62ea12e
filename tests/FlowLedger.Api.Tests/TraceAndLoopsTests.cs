using System.Net;
using System.Text.Json.Nodes;
using FlowLedger.Api.Reading;
using FlowLedger.Api.Tests.Fixtures;
using FlowLedger.Projections.Balances;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NodaTime;
using static FlowLedger.Api.Tests.Fixtures.LedgerClient;

namespace FlowLedger.Api.Tests;

/// <summary>The app holding exactly SPEC §6's worked example: V (vendor), L (lab), C (cloud), X (investor).</summary>
public sealed class WorkedExampleFixture(PostgresServer server) : AppFixture(server)
{
    public const string Deal = "worked-example";

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        var api = LedgerClient.For(this);
        await api.RegisterAsync("v", "l", "c", "x");
        foreach (var (from, to, amount, day) in new[]
                 {
                     ("x", "l", 30m, "2025-01-10"), ("v", "l", 10m, "2025-02-01"), ("l", "v", 20m, "2025-03-01"),
                     ("l", "c", 16m, "2025-04-01"), ("c", "v", 8m, "2025-05-01"),
                 })
        {
            await api.RecordAsync(Deal, new { type = "ServicesPaid", payer = from, payee = to, amount = Usd(amount), description = "example", effectiveOn = day });
        }
    }
}

/// <summary>SPEC §6 and §7 through the HTTP API, on the worked example.</summary>
public sealed class TraceAndLoopsTests(WorkedExampleFixture app) : IClassFixture<WorkedExampleFixture>
{
    private readonly LedgerClient _api = LedgerClient.For(app);

    private async Task<JsonNode> GetOkAsync(string url)
    {
        var answer = await _api.GetAsync(url);
        Assert.True(answer.Status == HttpStatusCode.OK, $"{answer.Status}: {answer.Body}");
        return answer.Json;
    }

    private static string Pairs(JsonNode node, string array, params string[] fields) =>
        string.Join(", ", node[array]!.AsArray().Select(item => string.Join(" ", fields.Select(f => item![f]!.ToString()))));

    [Theory]
    [InlineData("proportional", 7, "c 2, l 1", "v l 10, l v 5, l c 4, c v 2")]
    [InlineData("fifo", 0, "c 6, l 4", "v l 10, l c 6")]
    [InlineData("lifo", 10, "", "v l 10, l v 10")]
    public async Task The_worked_example_traces_as_the_spec_says(string policy, decimal returned, string holders, string flows)
    {
        var trace = await GetOkAsync($"/api/trace?source=v&asOf=2025-12-31&policy={policy}");

        Assert.Equal("v", trace["source"]!.GetValue<string>());
        Assert.Equal(policy, trace["policy"]!.GetValue<string>());
        Assert.Equal("USD", trace["currency"]!.GetValue<string>());
        Assert.Equal(10m, trace["traced"]!.GetValue<decimal>());
        Assert.Equal(returned, trace["returnedToSource"]!.GetValue<decimal>());
        Assert.Equal(0m, trace["leftLedger"]!.GetValue<decimal>());
        Assert.Equal(holders, Pairs(trace, "holders", "companyId", "amount"));
        Assert.Equal(flows, Pairs(trace, "flows", "from", "to", "amount"));
    }

    [Theory]
    [InlineData(WorkedExampleFixture.Deal, 10)]
    [InlineData("another-deal", 0)]
    public async Task A_trace_kept_to_one_deal_traces_only_that_deals_outflows(string deal, decimal traced)
    {
        var trace = await GetOkAsync($"/api/trace?source=v&asOf=2025-12-31&deal={deal}");

        Assert.Equal(traced, trace["traced"]!.GetValue<decimal>());
        Assert.Equal(deal, trace["deal"]!.GetValue<string>());
    }

    [Fact]
    public async Task Proportional_is_the_default_policy()
    {
        var trace = await GetOkAsync("/api/trace?source=v&asOf=2025-12-31");
        Assert.Equal("proportional", trace["policy"]!.GetValue<string>());
        Assert.Equal(7m, trace["returnedToSource"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task The_worked_example_has_two_cash_loops_at_year_end()
    {
        var result = await GetOkAsync("/api/loops?asOf=2025-12-31&layer=cash");

        Assert.False(result["truncated"]!.GetValue<bool>());
        var loops = result["loops"]!.AsArray();
        Assert.Equal(2, loops.Count);
        Assert.Equal("v l v", string.Join(" ", loops[0]!["path"]!.AsArray().Select(p => p!.GetValue<string>())));
        Assert.Equal(10m, loops[0]!["bottleneck"]!.GetValue<decimal>());
        Assert.Equal(10m, loops[0]!["temporalFlow"]!.GetValue<decimal>());
        Assert.Equal("2025-03-01", loops[0]!["closedOn"]!.GetValue<string>());
        Assert.Equal("v l 10, l v 20", Pairs(loops[0]!, "edges", "from", "to", "total"));
        Assert.All(loops[0]!["edges"]!.AsArray(), edge => Assert.Single(edge!["eventIds"]!.AsArray()));
        Assert.Equal("v l c v", string.Join(" ", loops[1]!["path"]!.AsArray().Select(p => p!.GetValue<string>())));
        Assert.Equal(8m, loops[1]!["bottleneck"]!.GetValue<decimal>());
        Assert.Equal(8m, loops[1]!["temporalFlow"]!.GetValue<decimal>());
        Assert.Equal("2025-05-01", loops[1]!["closedOn"]!.GetValue<string>());
    }

    [Fact]
    public async Task Only_the_first_loop_exists_in_mid_march()
    {
        var loops = (await GetOkAsync("/api/loops?asOf=2025-03-15"))["loops"]!.AsArray();
        Assert.Equal("v l v", string.Join(" ", Assert.Single(loops)!["path"]!.AsArray().Select(p => p!.GetValue<string>())));
    }

    [Fact]
    public async Task A_trace_as_known_before_anything_was_recorded_traces_nothing()
    {
        var trace = await GetOkAsync($"/api/trace?source=v&knownAt={AppFixture.Start.Minus(NodaTime.Duration.FromSeconds(1))}");
        Assert.Equal(0m, trace["traced"]!.GetValue<decimal>());
        Assert.Empty(trace["flows"]!.AsArray());
    }

    [Theory]
    [InlineData("/api/trace?asOf=2025-12-31")]
    [InlineData("/api/trace?source=Nvidia")]
    [InlineData("/api/trace?source=v&policy=random")]
    [InlineData("/api/trace?source=v&currency=usd")]
    [InlineData("/api/trace?source=v&from=2025-02-30")]
    [InlineData("/api/loops?layer=holding")]
    [InlineData("/api/loops?maxLength=9")]
    [InlineData("/api/loops?maxLength=1")]
    [InlineData("/api/loops?limit=0")]
    [InlineData("/api/loops?minAmount=-1")]
    [InlineData("/api/loops?limit=ten")]
    public async Task Malformed_parameters_are_bad_requests(string url)
    {
        Assert.Equal(HttpStatusCode.BadRequest, (await _api.GetAsync(url)).Status);
    }

    [Fact]
    public async Task The_trace_and_loops_commands_print_with_json_exactly_what_the_api_answers()
    {
        var knownAt = app.Clock.GetCurrentInstant().ToString();
        var (traceExit, trace, traceErrors) = await AppCommand.RunAsync(app.ConnectionString,
            "trace", "--source", "v", "--as-of", "2025-12-31", "--known-at", knownAt, "--policy", "fifo", "--json");
        var (loopsExit, loops, loopsErrors) = await AppCommand.RunAsync(app.ConnectionString,
            "loops", "--as-of", "2025-12-31", "--known-at", knownAt, "--json");

        Assert.True(traceExit == 0, traceErrors);
        Assert.True(loopsExit == 0, loopsErrors);
        // The whole of stdout is the JSON, so it can be piped to jq.
        Assert.Equal((await GetOkAsync($"/api/trace?source=v&asOf=2025-12-31&knownAt={knownAt}&policy=fifo")).ToJsonString(), JsonNode.Parse(trace)!.ToJsonString());
        Assert.Equal((await GetOkAsync($"/api/loops?asOf=2025-12-31&knownAt={knownAt}")).ToJsonString(), JsonNode.Parse(loops)!.ToJsonString());
    }

    [Fact]
    public async Task Tracing_an_unknown_company_is_not_found()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await _api.GetAsync("/api/trace?source=nobody")).Status);
    }

    [Fact]
    public async Task The_warm_up_runs_every_analysis_up_to_the_first_payment_between_companies_without_a_failure()
    {
        var ct = TestContext.Current.CancellationToken;
        var store = app.Host.Services.GetRequiredService<IDocumentStore>();
        var log = new WarningsLog();
        await new AnalysisWarmUp(app.Host.Services, store, app.Clock, log).StartAsync(ct);

        Assert.Equal(new FirstPayment(new LocalDate(2025, 1, 10), "x"), await PostingsQuery.FirstPaymentAsync(store, ct));
        Assert.Empty(log.Warnings);
    }

    private sealed class WarningsLog : ILogger<AnalysisWarmUp>
    {
        public List<string> Warnings { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= LogLevel.Warning)
            {
                Warnings.Add($"{formatter(state, exception)} {exception}");
            }
        }
    }
}
