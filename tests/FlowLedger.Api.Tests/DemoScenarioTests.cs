using Microsoft.Extensions.DependencyInjection;
using FlowLedger.Api.Tests.Fixtures;

namespace FlowLedger.Api.Tests;

/// <summary>An app started against an empty store, as a new user starts it: the demo deals load by themselves.</summary>
public sealed class DemoAppFixture(PostgresServer server) : AppFixture(server)
{
    protected override bool LoadDemo => true;
}

public sealed class DemoScenarioTests(DemoAppFixture app) : IClassFixture<DemoAppFixture>
{
    private readonly LedgerClient _api = LedgerClient.For(app);

    private static readonly string[] CompaniesOfTheDataFile =
        ["openai", "nvidia", "amd", "broadcom", "oracle", "microsoft", "coreweave", "softbank", "mgx", "intel", "xai", "banks"];

    [Fact]
    public async Task Every_company_of_the_2025_data_is_registered()
    {
        var companies = (await _api.GetAsync("/api/companies")).Json.AsArray().Select(c => c!["companyId"]!.GetValue<string>()).ToHashSet();
        Assert.Superset(CompaniesOfTheDataFile.ToHashSet(), companies);
    }

    [Fact]
    public async Task Every_demo_event_has_a_source_and_a_note_and_is_recorded_by_the_demo_loader()
    {
        var events = await _api.EventsAsync();
        Assert.True(events.Count > 40, $"Only {events.Count} demo events.");
        Assert.All(events, e =>
        {
            Assert.False(string.IsNullOrWhiteSpace(e!["data"]!["source"]?.GetValue<string>()), $"No source: {e["data"]}");
            Assert.False(string.IsNullOrWhiteSpace(e["data"]!["note"]?.GetValue<string>()), $"No note: {e["data"]}");
            Assert.Equal("demo", e["recordedBy"]!.GetValue<string>());
        });
    }

    [Fact]
    public async Task The_headline_deals_are_recorded_with_their_reported_figures()
    {
        var nvidiaOpenAi = (await _api.GetAsync("/api/deals/nvidia-openai-2025-09")).Json;
        var announcement = nvidiaOpenAi["announced"]!.AsArray().Single(a => a!["investor"]!.GetValue<string>() == "nvidia")!;
        Assert.Equal(100_000_000_000m, announcement["upTo"]!.GetValue<decimal>());

        var amd = (await _api.GetAsync("/api/deals/amd-openai-2025-10")).Json;
        Assert.Equal(160_000_000, amd["warrants"]![0]!["issued"]!.GetValue<long>());
    }

    [Fact]
    public async Task A_restart_against_a_store_that_has_events_does_not_load_the_demo_again()
    {
        var before = (await _api.EventsAsync()).Count;
        var loader = new FlowLedger.Api.Demo.DemoScenarioLoader(
            app.Host.Services.GetRequiredService<Marten.IDocumentStore>(),
            app.Host.Services.GetRequiredService<FlowLedger.Api.Ledger.LedgerRecorder>(),
            app.Host.Services.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>(),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<FlowLedger.Api.Demo.DemoScenarioLoader>.Instance);

        await loader.StartAsync(CancellationToken.None);

        Assert.Equal(before, (await _api.EventsAsync()).Count);
    }
}
