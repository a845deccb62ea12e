using FlowLedger.Api.Ledger;
using FlowLedger.Api.Recording;
using Marten;

namespace FlowLedger.Api.Demo;

/// <summary>
/// Loads the 2025 AI vendor-financing deals (SPEC §13) through the ordinary import path when the app
/// starts against an empty store. <c>FlowLedger:LoadDemo=false</c> turns it off.
/// </summary>
public sealed class DemoScenarioLoader(
    IDocumentStore store, LedgerRecorder recorder, IConfiguration configuration, ILogger<DemoScenarioLoader> logger) : IHostedService
{
    public const string ResourceName = "FlowLedger.Demo.ai-deals-2025.ndjson";

    public async Task StartAsync(CancellationToken ct)
    {
        if (!configuration.GetValue("FlowLedger:LoadDemo", true))
        {
            return;
        }
        var statistics = await store.Advanced.FetchEventStoreStatistics(token: ct);
        if (statistics.EventCount > 0)
        {
            logger.LogInformation("The store holds {Events} events; the demo scenario is not loaded", statistics.EventCount);
            return;
        }
        using var reader = new StreamReader(OpenScenario());
        switch (await LedgerImport.ImportAsync(reader, recorder, "demo", ct))
        {
            case ImportOutcome.Accepted accepted:
                logger.LogInformation("Loaded the 2025 demo scenario: {Events} events", accepted.Count);
                break;
            case ImportOutcome.Rejected rejected:
                throw new InvalidOperationException("The demo scenario does not import: " +
                    string.Join("; ", rejected.Lines.Select(l => $"line {l.Line}: {l.Detail}")));
        }
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;

    public static Stream OpenScenario() =>
        typeof(DemoScenarioLoader).Assembly.GetManifestResourceStream(ResourceName)
        ?? throw new InvalidOperationException($"The demo scenario {ResourceName} is not embedded in the app.");
}
