using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace FlowLedger.Dashboard.Tests;

/// <summary>
/// One browser tab on the dashboard. It records every console error and uncaught page error, so a
/// test can assert there were none, and writes screenshots under the test output's TestResults/screenshots.
/// </summary>
public sealed class DashboardPage : IAsyncDisposable
{
    public static readonly string ScreenshotFolder = Path.Combine(AppContext.BaseDirectory, "TestResults", "screenshots");

    private readonly IBrowserContext _context;
    private readonly List<string> _errors = [];

    private DashboardPage(IBrowserContext context, IPage page)
    {
        _context = context;
        Page = page;
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                Record($"console: {message.Text} ({message.Location})");
            }
        };
        page.PageError += (_, error) => Record($"page error: {error}");
    }

    public IPage Page { get; }

    public ILocator Main => Page.Locator("main");

    /// <summary>Opens the dashboard and waits until it shows the figures of its first day.</summary>
    public static async Task<DashboardPage> OpenAsync(DemoDashboard dashboard, int width = 1280, int height = 800)
    {
        var page = await GoToAsync(dashboard, width, height);
        await page.WaitUntilShowingFiguresAsync();
        return page;
    }

    /// <summary>Opens the dashboard in a new tab, without waiting for anything.</summary>
    public static async Task<DashboardPage> GoToAsync(DemoDashboard dashboard, int width = 1280, int height = 800)
    {
        var context = await dashboard.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = dashboard.App.BaseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = width, Height = height },
        });
        var page = new DashboardPage(context, await context.NewPageAsync());
        await page.Page.GotoAsync("/");
        return page;
    }

    public Task WaitUntilShowingFiguresAsync() => Expect(Page.Locator("main[data-shown-as-of]")).ToBeAttachedAsync();

    /// <summary>The day whose figures the page shows (the answer it last rendered, not the slider's position).</summary>
    public async Task<string> ShownAsOfAsync() => (await Main.GetAttributeAsync("data-shown-as-of"))!;

    public Task WaitUntilShowingAsync(string asOf) => Expect(Main).ToHaveAttributeAsync("data-shown-as-of", asOf);

    /// <summary>
    /// The amount behind a shown figure: the page keeps the number it received from the API in
    /// data-amount. Browsers read JSON numbers as doubles, so amounts are compared as doubles.
    /// </summary>
    public static async Task<double> AmountAsync(ILocator figure) =>
        double.Parse((await figure.GetAttributeAsync("data-amount"))!, NumberStyles.Float, CultureInfo.InvariantCulture);

    /// <summary>An API amount as the browser holds it: JSON numbers become doubles there.</summary>
    public static double Amount(JsonNode? amount) =>
        amount is null ? 0 : double.Parse(amount.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);

    public async Task ScreenshotAsync(string name)
    {
        Directory.CreateDirectory(ScreenshotFolder);
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotFolder, $"{name}.png") });
    }

    public void AssertNoErrors()
    {
        lock (_errors)
        {
            Assert.True(_errors.Count == 0, "The page reported errors:\n" + string.Join("\n", _errors));
        }
    }

    private void Record(string error)
    {
        lock (_errors)
        {
            _errors.Add(error);
        }
    }

    public async ValueTask DisposeAsync() => await _context.DisposeAsync();
}
