using Microsoft.Playwright;

namespace FlowLedger.Dashboard.Tests;

/// <summary>
/// The built app as its own process on a real port, with the demo loaded into a database of its own,
/// and a headless Chromium to look at it. Debian's Chromium, because test machines cannot download browsers.
/// </summary>
public sealed class DemoDashboard(PostgresServer server) : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public AppProcess App { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        var connection = await server.CreateDatabaseAsync();
        App = await AppProcess.StartAsync(
            new Dictionary<string, string?> { ["ConnectionStrings__Marten"] = connection, ["FlowLedger__LoadDemo"] = "true" },
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
