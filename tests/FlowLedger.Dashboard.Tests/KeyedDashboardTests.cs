using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using static FlowLedger.Dashboard.Tests.DashboardPage;
using static Microsoft.Playwright.Assertions;

namespace FlowLedger.Dashboard.Tests;

/// <summary>
/// The dashboard on a server that asks for API keys: it asks for one before it reads anything,
/// refuses one the server does not know, and with a reader key shows the figures and the live feed.
/// </summary>
public sealed class KeyedDashboardTests(KeyedDemoDashboard dashboard) : IClassFixture<KeyedDemoDashboard>
{
    [Fact]
    public async Task The_page_asks_for_a_key_and_with_a_reader_key_shows_the_figures_and_live_events()
    {
        await using var page = await DashboardPage.GoToAsync(dashboard);
        var form = page.Page.Locator("#key-form");
        await Expect(form).ToBeVisibleAsync();
        Assert.Null(await page.Main.GetAttributeAsync("data-shown-as-of"));
        await page.ScreenshotAsync("key-asked");

        await page.Page.GetByLabel("Key", new() { Exact = true }).FillAsync("flk_not_a_key_of_this_server");
        await page.Page.GetByRole(AriaRole.Button, new() { Name = "Use key" }).ClickAsync();
        await Expect(page.Page.Locator("#key-problem")).ToHaveTextAsync("This server does not know that key.");

        await page.Page.GetByLabel("Key", new() { Exact = true }).FillAsync(dashboard.ReaderKey);
        await page.Page.GetByRole(AriaRole.Button, new() { Name = "Use key" }).ClickAsync();
        await page.WaitUntilShowingFiguresAsync();
        await Expect(form).ToBeHiddenAsync();
        await Expect(page.Page.Locator("#key-name")).ToHaveTextAsync("dashboard-reader");
        var asOf = await page.ShownAsOfAsync();
        var openai = await GetAsync($"/api/companies/openai/balance?asOf={asOf}", dashboard.ReaderKey);
        await Expect(page.Page.Locator("#positions tr[data-company='openai'] td[data-field='in']"))
            .ToHaveAttributeAsync("data-amount", Amount(openai["cash"]!["USD"]!["in"]).ToString(CultureInfo.InvariantCulture));

        // The live stream carries the key too: an event recorded with the writer's key shows up.
        await Expect(page.Page.Locator("#live-status")).ToHaveAttributeAsync("data-state", "live");
        var sequence = await RecordRevenueAsync(asOf);
        var item = page.Page.Locator($"#live-feed li[data-sequence='{sequence}']");
        // On a fresh store the server's subscription starts some seconds after the app answers.
        await Expect(item).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await page.ScreenshotAsync("key-accepted");

        // The key lives in the tab: a reload keeps it, "Forget key" asks again.
        await page.Page.ReloadAsync();
        await page.WaitUntilShowingFiguresAsync();
        await page.Page.GetByRole(AriaRole.Button, new() { Name = "Forget key" }).ClickAsync();
        await Expect(form).ToBeVisibleAsync();
        page.AssertNoErrors();
    }

    private async Task<long> RecordRevenueAsync(string asOf)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/deals/{$"dashboard-keyed-{Guid.NewGuid():N}"[..32]}/events")
        {
            Content = JsonContent.Create(new
            {
                type = "RevenueRecognized",
                company = "openai",
                amount = new { amount = 7_654_321m, currency = "USD" },
                description = "recorded by the keyed dashboard test",
                effectiveOn = asOf,
            }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", dashboard.WriterKey);
        using var response = await dashboard.App.Http.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (long)(await response.Content.ReadFromJsonAsync<JsonObject>(Ct))!["sequence"]!;
    }

    private async Task<JsonNode> GetAsync(string url, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await dashboard.App.Http.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!;
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;
}
