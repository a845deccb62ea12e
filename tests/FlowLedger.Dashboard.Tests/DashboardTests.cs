using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using static FlowLedger.Dashboard.Tests.DashboardPage;
using static Microsoft.Playwright.Assertions;

namespace FlowLedger.Dashboard.Tests;

/// <summary>
/// Issue #6 in a real browser against the app with the demo loaded. Every figure on screen is checked
/// against what the API answers for the same point in time, never against a number written here.
/// </summary>
public sealed class DashboardTests(DemoDashboard dashboard) : IClassFixture<DemoDashboard>
{
    private static readonly string[] PositionFields = ["net", "in", "out", "receivable", "payable"];

    [Fact]
    public async Task The_graph_shows_every_demo_company_and_the_edges_the_api_reports_for_either_layer()
    {
        await using var page = await DashboardPage.OpenAsync(dashboard);
        var companies = (await GetAsync("/api/companies")).AsArray().Select(c => (string)c!["companyId"]!).Order().ToList();
        Assert.Contains("nvidia", companies);

        var shownCompanies = await page.Page.Locator("svg#graph g.node").EvaluateAllAsync<string[]>("nodes => nodes.map(n => n.dataset.company)");
        Assert.Equal(companies, shownCompanies.Order());
        var asOf = await page.ShownAsOfAsync();
        Assert.Equal(await EdgesFromApiAsync(asOf, "paid"), await ShownEdgesAsync(page));
        await page.ScreenshotAsync("graph-cash");

        await page.Page.GetByLabel("Commitments outstanding").CheckAsync();
        await Expect(page.Page.Locator("svg#graph")).ToHaveAttributeAsync("data-layer", "commitment");
        Assert.Equal(await EdgesFromApiAsync(asOf, "committedTo"), await ShownEdgesAsync(page));
        await page.ScreenshotAsync("graph-commitments");
        page.AssertNoErrors();
    }

    [Fact]
    public async Task Moving_the_slider_to_2025_09_01_shows_the_figures_the_api_gives_for_that_day()
    {
        await using var page = await DashboardPage.OpenAsync(dashboard);
        const string day = "2025-09-01";
        var before = await ShownPositionsAsync(page);

        await MoveSliderToAsync(page, day);
        await page.WaitUntilShowingAsync(day);

        await Expect(page.Page.Locator("#asof-label")).ToHaveTextAsync(day);
        var shown = await ShownPositionsAsync(page);
        Assert.Equal(await PositionsFromApiAsync(day, knownAt: null), shown);
        Assert.NotEqual(before, shown);

        var openai = await GetAsync($"/api/companies/openai/balance?asOf={day}");
        var panel = page.Page.Locator("#company-panel[data-company='openai'] dl[data-currency='USD'] dd");
        Assert.Equal(
            new[] { openai["cash"]!["USD"]!["in"], openai["cash"]!["USD"]!["out"], openai["cash"]!["USD"]!["net"] }.Select(Amount),
            [await DashboardPage.AmountAsync(panel.Nth(0)), await DashboardPage.AmountAsync(panel.Nth(1)), await DashboardPage.AmountAsync(panel.Nth(2))]);
        await page.ScreenshotAsync("as-of-2025-09-01");
        page.AssertNoErrors();
    }

    [Fact]
    public async Task Playing_replays_history_one_day_after_another_until_paused()
    {
        await using var page = await DashboardPage.OpenAsync(dashboard);
        await page.Page.GetByLabel("Go to").FillAsync("2025-11-10");
        await page.WaitUntilShowingAsync("2025-11-10");
        await page.Page.EvaluateAsync("""
            () => {
              window.shownDays = [];
              new MutationObserver(() => window.shownDays.push(document.querySelector('main').dataset.shownAsOf))
                .observe(document.querySelector('main'), { attributes: true, attributeFilter: ['data-shown-as-of'] });
            }
            """);

        var play = page.Page.GetByRole(AriaRole.Button, new() { Name = "Play" });
        await play.ClickAsync();
        await Expect(page.Page.Locator("#play")).ToHaveAttributeAsync("aria-pressed", "true");
        await page.Page.WaitForFunctionAsync("() => window.shownDays.includes('2025-11-16')");
        await page.Page.GetByRole(AriaRole.Button, new() { Name = "Pause" }).ClickAsync();
        await Expect(page.Page.Locator("#play")).ToHaveAttributeAsync("aria-pressed", "false");

        // A step under way when Pause was pressed still finishes: the page stops on the slider's day.
        var stoppedOn = (await page.Page.Locator("#asof-slider").GetAttributeAsync("aria-valuetext"))!;
        await page.WaitUntilShowingAsync(stoppedOn);
        var shownDays = (await page.Page.EvaluateAsync<string[]>("() => window.shownDays")).Distinct().Select(DayOf).ToList();
        Assert.Equal(DayOf("2025-11-11"), shownDays[0]);
        Assert.All(shownDays.Zip(shownDays.Skip(1)), pair => Assert.Equal(pair.First.AddDays(1), pair.Second));
        Assert.Equal(DayOf(stoppedOn), shownDays[^1]);
        Assert.Equal(await PositionsFromApiAsync(stoppedOn, knownAt: null), await ShownPositionsAsync(page));
        page.AssertNoErrors();
    }

    [Fact]
    public async Task As_known_at_an_instant_before_the_demo_was_recorded_the_page_shows_what_the_api_knew_then()
    {
        await using var page = await DashboardPage.OpenAsync(dashboard);
        var asOf = await page.ShownAsOfAsync();
        var firstRecorded = DateTimeOffset.Parse((string)(await GetAsync("/api/events?limit=1"))[0]!["recordedAt"]!, CultureInfo.InvariantCulture);
        var minuteBefore = firstRecorded.AddMinutes(-1);
        var knownAt = $"{minuteBefore:yyyy-MM-ddTHH:mm}:00Z";

        await page.Page.GetByLabel("As known at (UTC)").FillAsync($"{minuteBefore:yyyy-MM-ddTHH:mm}");
        await Expect(page.Main).ToHaveAttributeAsync("data-shown-known-at", knownAt);

        Assert.Equal(await PositionsFromApiAsync(asOf, knownAt), await ShownPositionsAsync(page));
        await Expect(page.Page.Locator("svg#graph path.edge")).ToHaveCountAsync(0);
        Assert.NotEqual(await PositionsFromApiAsync(asOf, knownAt), await PositionsFromApiAsync(asOf, knownAt: null));

        await page.Page.GetByRole(AriaRole.Button, new() { Name = "Now" }).ClickAsync();
        await Expect(page.Main).ToHaveAttributeAsync("data-shown-known-at", "");
        Assert.Equal(await PositionsFromApiAsync(asOf, knownAt: null), await ShownPositionsAsync(page));
        page.AssertNoErrors();
    }

    [Fact]
    public async Task The_trace_view_shows_the_api_totals_for_nvidia_under_each_policy()
    {
        await using var page = await DashboardPage.OpenAsync(dashboard);
        var asOf = await page.ShownAsOfAsync();
        await Expect(page.Page.GetByLabel("Source")).ToHaveValueAsync("nvidia");

        foreach (var policy in new[] { "proportional", "lifo", "fifo" })
        {
            await page.Page.GetByLabel("Attribution").SelectOptionAsync(policy);
            var totals = page.Page.Locator($"#trace-totals[data-source='nvidia'][data-policy='{policy}']");
            await Expect(totals).ToBeVisibleAsync();
            var trace = await GetAsync($"/api/trace?source=nvidia&asOf={asOf}&policy={policy}");
            var held = trace["holders"]!.AsArray().Sum(h => Amount(h!["amount"]));
            Assert.Equal(Amount(trace["traced"]), await DashboardPage.AmountAsync(totals.Locator("dd[data-field='traced']")));
            Assert.Equal(Amount(trace["returnedToSource"]), await DashboardPage.AmountAsync(totals.Locator("dd[data-field='returnedToSource']")));
            Assert.Equal(Amount(trace["leftLedger"]), await DashboardPage.AmountAsync(totals.Locator("dd[data-field='leftLedger']")));
            Assert.Equal(held, await DashboardPage.AmountAsync(totals.Locator("dd[data-field='held']")), 1e-3);
            Assert.Equal(Amount(trace["traced"]), await DashboardPage.AmountAsync(page.Page.Locator("svg#sankey g[data-node='company:nvidia']")));
            foreach (var holder in trace["holders"]!.AsArray())
            {
                var node = page.Page.Locator($"svg#sankey g[data-node='held:{holder!["companyId"]}']");
                await Expect(node).ToBeVisibleAsync();
                Assert.Equal(Amount(holder["amount"]), await DashboardPage.AmountAsync(node));
            }
            await page.Page.Locator("svg#sankey").ScrollIntoViewIfNeededAsync();
            await page.ScreenshotAsync($"trace-nvidia-{policy}");
        }
        page.AssertNoErrors();
    }

    [Fact]
    public async Task Selecting_a_loop_highlights_its_edges_on_the_graph_with_its_figures()
    {
        await using var page = await DashboardPage.OpenAsync(dashboard);
        var asOf = await page.ShownAsOfAsync();
        var loops = (await GetAsync($"/api/loops?asOf={asOf}&layer=cash"))["loops"]!.AsArray();
        Assert.NotEmpty(loops);
        var loop = loops[^1]!;
        var path = loop["path"]!.AsArray().Select(n => (string)n!).ToList();
        var key = string.Join('>', path);

        var button = page.Page.Locator($"button.loop[data-loop='{key}']");
        await button.ClickAsync();
        await Expect(button).ToHaveAttributeAsync("aria-pressed", "true");

        var highlighted = page.Page.Locator("svg#graph.highlighting path.edge.in-loop");
        await Expect(highlighted).ToHaveCountAsync(path.Count - 1);
        foreach (var edge in await highlighted.AllAsync())
        {
            await Expect(edge).ToBeVisibleAsync();
        }
        var shownPairs = await highlighted.EvaluateAllAsync<string[]>("edges => edges.map(e => e.dataset.from + '>' + e.dataset.to)");
        Assert.Equal(path.Zip(path.Skip(1), (from, to) => $"{from}>{to}").Order(), shownPairs.Order());

        var detail = page.Page.Locator($"#loop-detail dl[data-loop='{key}']");
        var figures = detail.Locator("dd");
        Assert.Equal(Amount(loop["bottleneck"]), await DashboardPage.AmountAsync(figures.Nth(0)));
        Assert.Equal(Amount(loop["temporalFlow"]), await DashboardPage.AmountAsync(figures.Nth(1)));
        await Expect(figures.Nth(2)).ToHaveTextAsync((string)loop["closedOn"]!);
        // From the top: the graph with the loop drawn on it, beside the list (docs/images/dashboard.png shows this view).
        await page.Page.EvaluateAsync("() => window.scrollTo(0, 0)");
        await page.ScreenshotAsync("loop-selected");

        await button.ClickAsync();
        await Expect(page.Page.Locator("svg#graph path.edge.in-loop")).ToHaveCountAsync(0);
        page.AssertNoErrors();
    }

    [Fact]
    public async Task An_event_recorded_through_the_api_appears_live_without_a_reload()
    {
        await using var page = await DashboardPage.OpenAsync(dashboard);
        await Expect(page.Page.Locator("#live-status")).ToHaveAttributeAsync("data-state", "live");
        var asOf = await page.ShownAsOfAsync();
        var dealId = $"dashboard-live-{Guid.NewGuid():N}"[..30];

        using var response = await dashboard.App.Http.PostAsJsonAsync($"/api/deals/{dealId}/events", new
        {
            type = "RevenueRecognized",
            company = "openai",
            amount = new { amount = 1_234_567m, currency = "USD" },
            description = "recorded by the dashboard's live test",
            effectiveOn = asOf,
        }, Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var sequence = (long)(await response.Content.ReadFromJsonAsync<JsonObject>(Ct))!["sequence"]!;

        var item = page.Page.Locator($"#live-feed li[data-sequence='{sequence}']");
        // On a fresh store the server's subscription starts some seconds after the app answers (3–4 s
        // on a 2-core machine), then pushes every event; from then on an event arrives within a second or two.
        await Expect(item).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await Expect(item).ToContainTextAsync("RevenueRecognized");
        var openai = await GetAsync($"/api/companies/openai/balance?asOf={asOf}");
        var cashIn = Amount(openai["cash"]!["USD"]!["in"]);
        await Expect(page.Page.Locator("#positions tr[data-company='openai'] td[data-field='in']"))
            .ToHaveAttributeAsync("data-amount", cashIn.ToString(CultureInfo.InvariantCulture));
        await item.ScrollIntoViewIfNeededAsync();
        await page.ScreenshotAsync("live-event");
        page.AssertNoErrors();
    }

    [Fact]
    public async Task The_time_slider_and_the_graph_work_by_keyboard()
    {
        await using var page = await DashboardPage.OpenAsync(dashboard);
        var last = await page.ShownAsOfAsync();
        var slider = page.Page.Locator("#asof-slider");
        for (var presses = 0; presses < 10 && !await slider.EvaluateAsync<bool>("s => s === document.activeElement"); presses++)
        {
            await page.Page.Keyboard.PressAsync("Tab");
        }
        await Expect(slider).ToBeFocusedAsync();

        await page.Page.Keyboard.PressAsync("ArrowLeft");
        var dayBefore = DateOnly.ParseExact(last, "yyyy-MM-dd", CultureInfo.InvariantCulture).AddDays(-1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        await page.WaitUntilShowingAsync(dayBefore);
        await Expect(slider).ToHaveAttributeAsync("aria-valuetext", dayBefore);

        var nvidia = page.Page.Locator("svg#graph g.node[data-company='nvidia']");
        await nvidia.FocusAsync();
        await page.Page.Keyboard.PressAsync("Enter");
        await Expect(page.Page.Locator("#company-panel")).ToHaveAttributeAsync("data-company", "nvidia");
        await Expect(nvidia).ToHaveAttributeAsync("aria-pressed", "true");
        await page.ScreenshotAsync("keyboard-nvidia-selected");
        page.AssertNoErrors();
    }

    [Fact]
    public async Task On_a_narrow_screen_nothing_is_wider_than_the_screen()
    {
        await using var page = await DashboardPage.OpenAsync(dashboard, width: 400, height: 800);
        await Expect(page.Page.Locator("svg#graph g.node")).ToHaveCountAsync((await GetAsync("/api/companies")).AsArray().Count);
        // Wide tables scroll inside their own frame; nothing else may stick out of the screen.
        var stickingOut = await page.Page.EvaluateAsync<string[]>("""
            () => [...document.querySelectorAll('body *')]
              .filter(e => e.getBoundingClientRect().right > innerWidth + 1)
              .filter(e => e.parentElement.getBoundingClientRect().right <= innerWidth + 1 && !e.parentElement.closest('.table-frame'))
              .map(e => `${e.tagName}#${e.id}.${e.getAttribute('class')}`)
            """);
        Assert.Empty(stickingOut);
        Assert.True(await page.Page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= innerWidth"), "The page scrolls sideways.");
        await page.ScreenshotAsync("narrow");
        page.AssertNoErrors();
    }

    /// <summary>Drags the slider near the day, as a mouse would, then steps to it with the arrow keys.</summary>
    private static async Task MoveSliderToAsync(DashboardPage page, string day)
    {
        var slider = page.Page.Locator("#asof-slider");
        var box = (await slider.BoundingBoxAsync())!;
        var max = int.Parse((await slider.GetAttributeAsync("max"))!, CultureInfo.InvariantCulture);
        var shown = DayOf((await slider.GetAttributeAsync("aria-valuetext"))!);
        var first = shown.AddDays(-int.Parse(await slider.InputValueAsync(), CultureInfo.InvariantCulture));
        var fraction = (DayOf(day).DayNumber - first.DayNumber) / (float)max;
        await page.Page.Mouse.ClickAsync(box.X + box.Width * fraction, box.Y + box.Height / 2);

        var offset = DayOf(day).DayNumber - DayOf((await slider.GetAttributeAsync("aria-valuetext"))!).DayNumber;
        for (var i = 0; i < Math.Abs(offset); i++)
        {
            await slider.PressAsync(offset > 0 ? "ArrowRight" : "ArrowLeft");
        }
    }

    private static DateOnly DayOf(string isoDate) => DateOnly.ParseExact(isoDate, "yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>Each company's row of the positions table, as "company: net in out receivable payable".</summary>
    private static async Task<List<string>> ShownPositionsAsync(DashboardPage page)
    {
        var rows = await page.Page.Locator("#positions tbody tr").EvaluateAllAsync<string[][]>(
            "rows => rows.map(r => [r.dataset.company, ...[...r.querySelectorAll('td')].map(c => c.dataset.field + '=' + c.dataset.amount)])");
        return rows.Select(row => Position(row[0], PositionFields.Select(field => double.Parse(
                row.Single(cell => cell.StartsWith(field + "=", StringComparison.Ordinal))[(field.Length + 1)..], CultureInfo.InvariantCulture))))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    private async Task<List<string>> PositionsFromApiAsync(string asOf, string? knownAt)
    {
        var balances = await GetAsync($"/api/balances?asOf={asOf}" + (knownAt is null ? "" : $"&knownAt={knownAt}"));
        return balances["companies"]!.AsArray()
            .Select(b => Position((string)b!["companyId"]!, PositionFields.Select(field => PositionOf(b, field))))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    private static string Position(string companyId, IEnumerable<double> figures) =>
        $"{companyId}: {string.Join(' ', figures.Select(f => f.ToString("R", CultureInfo.InvariantCulture)))}";

    private static double PositionOf(JsonNode balance, string field) => field is "receivable" or "payable"
        ? Amount(balance["commitments"]!["USD"]?[field])
        : Amount(balance["cash"]!["USD"]?[field]);

    private async Task<List<string>> EdgesFromApiAsync(string asOf, string field)
    {
        var balances = (await GetAsync($"/api/balances?asOf={asOf}"))["companies"]!.AsArray();
        return balances
            .SelectMany(b => b!["counterparties"]!.AsArray()
                .Where(c => (string)c!["currency"]! == "USD" && Amount(c[field]) > 0)
                .Select(c => $"{b["companyId"]}>{c!["companyId"]}={Amount(c[field]).ToString(CultureInfo.InvariantCulture)}"))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    private static async Task<List<string>> ShownEdgesAsync(DashboardPage page)
    {
        var edges = await page.Page.Locator("svg#graph path.edge").EvaluateAllAsync<string[]>(
            "edges => edges.map(e => e.dataset.from + '>' + e.dataset.to + '=' + e.dataset.amount)");
        return edges.Order(StringComparer.Ordinal).ToList();
    }

    private async Task<JsonNode> GetAsync(string url) => JsonNode.Parse(await dashboard.App.Http.GetStringAsync(url, Ct))!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;
}
