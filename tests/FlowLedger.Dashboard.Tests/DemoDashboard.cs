using FlowLedger.Api.Security;
using Microsoft.Playwright;

namespace FlowLedger.Dashboard.Tests;

/// <summary>
/// The built app as its own process on a real port, with the demo loaded into a database of its own,
/// and a headless Chromium to look at it. Debian's Chromium, because test machines cannot download browsers.
/// </summary>
public class DemoDashboard(PostgresServer server) : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public AppProcess App { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>Settings the app starts with besides its database and the demo.</summary>
    protected virtual IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>();

    public async ValueTask InitializeAsync()
    {
        var connection = await server.CreateDatabaseAsync();
        App = await AppProcess.StartAsync(
            new Dictionary<string, string?>(Settings) { ["ConnectionStrings__Marten"] = connection, ["FlowLedger__LoadDemo"] = "true" },
            TestContext.Current.CancellationToken);
        // Five seconds, Playwright's default, is too short when the solution's test projects share two cores.
        Assertions.SetDefaultExpectTimeout(20_000);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            // Chromium refuses to start its sandbox as root, which CI machines often are.
            Args = Environment.IsPrivilegedProcess ? ["--no-sandbox"] : [],
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }
        _playwright?.Dispose();
        if (App is not null)
        {
            await App.DisposeAsync();
        }
    }
}

/// <summary>The demo dashboard on a server that asks for API keys: one to read, one to write.</summary>
public sealed class KeyedDemoDashboard(PostgresServer server) : DemoDashboard(server)
{
    public string ReaderKey { get; } = $"flk_reader_{Guid.NewGuid():N}";

    public string WriterKey { get; } = $"flk_writer_{Guid.NewGuid():N}";

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["FlowLedger__ApiKeys__0__Name"] = "dashboard-reader",
        ["FlowLedger__ApiKeys__0__Role"] = "reader",
        ["FlowLedger__ApiKeys__0__Sha256"] = ApiKeyRing.HashOf(ReaderKey),
        ["FlowLedger__ApiKeys__1__Name"] = "dashboard-writer",
        ["FlowLedger__ApiKeys__1__Role"] = "writer",
        ["FlowLedger__ApiKeys__1__Sha256"] = ApiKeyRing.HashOf(WriterKey),
    };
}
