using System.Net;
using System.Text.Json;
using FlowLedger.Api.Ledger;
using FlowLedger.Api.Tests.Fixtures;
using FlowLedger.Domain;
using FlowLedger.Projections;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using System.Diagnostics.Metrics;
using NodaTime;
using static FlowLedger.Api.Tests.Fixtures.LedgerClient;

namespace FlowLedger.Api.Tests;

/// <summary>
/// The recorder decides on what its node knows (<see cref="KnownStreams"/>) without reading first, and a guess gone
/// stale — here, streams written straight to the store, as another node would — costs a second decision on a read,
/// never a wrong answer: no version is skipped or repeated, nothing is refused that a read would accept, and nothing
/// is accepted that a read would refuse.
/// </summary>
public sealed class KnownStreamsTests(AppFixture app) : IClassFixture<AppFixture>, IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly LedgerClient _api = LedgerClient.For(app);
    private readonly MetricCollector<long> _decisions = Collect(app, RecorderMetrics.Decisions);
    private readonly MetricCollector<long> _conflicts = Collect(app, RecorderMetrics.Conflicts);

    [Fact]
    public async Task Commands_on_deals_the_node_knows_are_decided_without_a_read_and_a_refusal_only_after_one()
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        var since = Counts();

        await _api.RecordAsync(deal, Payment(a, b, 1));
        await _api.RecordAsync(deal, Payment(a, b, 2));
        var stale = await _api.PostAsync($"/api/deals/{deal}/events", Payment(a, b, 3, expectedVersion: 1));

        Assert.Equal(HttpStatusCode.Conflict, stale.Status);
        Assert.Contains("at version 2, not the expected 1", stale.Detail);
        Assert.Equal((2L, 1L, 0L), Counts() - since);
    }

    [Fact]
    public async Task A_deal_started_behind_the_nodes_back_is_read_before_it_is_appended_to()
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        await WriteBehindTheNodesBackAsync(deal, atVersion: null, new ServicesPaid(a, b, new Money(10m, "USD"), "elsewhere", new LocalDate(2025, 5, 1)));
        var since = Counts();

        var recorded = await _api.RecordAsync(deal, Payment(a, b, 1));

        Assert.Equal(2, recorded["version"]!.GetValue<long>());
        Assert.Equal((1L, 1L, 1L), Counts() - since);
        Assert.Equal([1L, 2L], await VersionsAsync(deal));
        Assert.Equal(11m, await CashInAsync(b));
    }

    [Fact]
    public async Task A_known_deal_appended_to_behind_the_nodes_back_is_decided_again_on_what_it_holds()
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        await _api.RecordAsync(deal, Payment(a, b, 1));
        await WriteBehindTheNodesBackAsync(deal, atVersion: 1, new ServicesPaid(a, b, new Money(10m, "USD"), "elsewhere", new LocalDate(2025, 5, 1)));
        var since = Counts();

        // The node still holds version 1: on it, the expected version 2 would be refused.
        var expected = await _api.PostAsync($"/api/deals/{deal}/events", Payment(a, b, 2, expectedVersion: 2));
        await WriteBehindTheNodesBackAsync(deal, atVersion: 3, new ServicesPaid(a, b, new Money(20m, "USD"), "elsewhere again", new LocalDate(2025, 5, 2)));
        // Now the node holds version 3, and the store 4: the append at 3 conflicts.
        var unexpected = await _api.RecordAsync(deal, Payment(a, b, 4));

        Assert.Equal(HttpStatusCode.Created, expected.Status);
        Assert.Equal(3, expected.Json["version"]!.GetValue<long>());
        Assert.Equal(5, unexpected["version"]!.GetValue<long>());
        Assert.Equal((1L, 2L, 1L), Counts() - since);
        Assert.Equal([1L, 2L, 3L, 4L, 5L], await VersionsAsync(deal));
        Assert.Equal(37m, await CashInAsync(b));
    }

    [Fact]
    public async Task Companies_registered_behind_the_nodes_back_are_known_once_a_read_finds_them()
    {
        var (a, _, deal) = await _api.NewPartiesAsync();
        var (paid, registeredTwice) = (Ids.New("paid"), Ids.New("twice"));
        await RegisterBehindTheNodesBackAsync(paid);
        await RegisterBehindTheNodesBackAsync(registeredTwice);
        var since = Counts();

        // Guessed unknown, which only a read may refuse; the read finds it, and the node knows it from then on.
        var first = await _api.RecordAsync(deal, Payment(a, paid, 5));
        var second = await _api.RecordAsync(deal, Payment(a, paid, 6));
        // Guessed new, which the store refuses as its stream exists; the read then refuses it.
        var again = await _api.PostAsync("/api/companies", new { companyId = registeredTwice, name = "Again", kind = "other", effectiveOn = "2024-01-01" });

        Assert.Equal([1L, 2L], [first["version"]!.GetValue<long>(), second["version"]!.GetValue<long>()]);
        Assert.Equal(HttpStatusCode.Conflict, again.Status);
        Assert.Contains("already registered", again.Detail);
        Assert.Equal((2L, 2L, 1L), Counts() - since);
    }

    [Fact]
    public async Task After_an_import_decided_in_slices_its_deals_are_read_again_not_guessed_on_what_it_read()
    {
        var (a, b, deals) = await _api.NewPartiesAsync();
        var count = LedgerRecorder.DealsPerSlice * 2 + 1;
        await ImportPaymentsAsync(deals, count, a, b);
        // A deal the node does not know of: the next import's guess fails on it, and it is decided on a read, in slices.
        await WriteBehindTheNodesBackAsync($"{deals}-elsewhere", atVersion: null, new ServicesPaid(a, b, new Money(10m, "USD"), "elsewhere", new LocalDate(2025, 5, 1)));
        await ImportPaymentsAsync(deals, count, a, b, extraDeal: $"{deals}-elsewhere");
        var since = Counts();

        var recorded = await _api.RecordAsync($"{deals}-0", Payment(a, b, 1));

        Assert.Equal(3, recorded["version"]!.GetValue<long>());
        Assert.Equal((0L, 1L, 0L), Counts() - since);
    }

    [Fact]
    public void A_kept_history_answers_for_every_version_it_reaches_and_never_gives_way_to_a_shorter_one()
    {
        using var known = new KnownStreams();
        var history = Enumerable.Range(1, 3)
            .Select(i => new RecordedEntry(Guid.NewGuid(), i, Instant.FromUnixTimeSeconds(i), new ServicesPaid("a", "b", new Money(i, "USD"), $"payment {i}", new LocalDate(2025, 5, i))))
            .ToList();

        known.Committed("deal", new KnownDeal(3, history));
        // A second writer of the node that read the deal before the first committed, and finished after it.
        known.Committed("deal", new KnownDeal(2, history.Take(2).ToList()));

        Assert.Equal(history.Take(1), known.Before("deal", 2));
        Assert.Equal(history, known.Before("deal", 4));
        Assert.Null(known.Before("deal", 5));
        Assert.Null(known.Before("another-deal", 2));
    }

    public void Dispose()
    {
        _decisions.Dispose();
        _conflicts.Dispose();
    }

    private static MetricCollector<long> Collect(AppFixture app, string instrument) =>
        new(app.Host.Services.GetRequiredService<IMeterFactory>(), RecorderMetrics.MeterName, instrument);

    private Tally Counts() => new(Count(_decisions, "known"), Count(_decisions, "read"), Count(_conflicts, "known"));

    private static long Count(MetricCollector<long> collector, string basis) =>
        collector.GetMeasurementSnapshot().Where(m => Equals(m.Tags[RecorderMetrics.Basis], basis)).Sum(m => m.Value);

    private readonly record struct Tally(long Known, long Read, long StaleGuesses)
    {
        public static (long Known, long Read, long StaleGuesses) operator -(Tally now, Tally since) =>
            (now.Known - since.Known, now.Read - since.Read, now.StaleGuesses - since.StaleGuesses);
    }

    private static object Payment(string payer, string payee, decimal amount, long? expectedVersion = null) =>
        new { type = "ServicesPaid", payer, payee, amount = Usd(amount), description = $"payment {amount}", effectiveOn = "2025-05-03", expectedVersion };

    /// <summary>One import of a payment on each of <paramref name="count"/> deals named after <paramref name="deals"/>, and on <paramref name="extraDeal"/>.</summary>
    private async Task ImportPaymentsAsync(string deals, int count, string payer, string payee, string? extraDeal = null)
    {
        var lines = Enumerable.Range(0, count).Select(i => $"{deals}-{i}").Append(extraDeal).OfType<string>()
            .Select(deal => JsonSerializer.Serialize(new
            {
                type = "ServicesPaid", dealId = deal, payer, payee, amount = Usd(1), description = "imported", effectiveOn = "2025-05-02",
            }));
        var imported = await _api.PostRawAsync("/api/import", string.Join('\n', lines), contentType: "application/x-ndjson");
        Assert.Equal(HttpStatusCode.OK, imported.Status);
    }

    /// <summary>Appends straight to the store, as another node would, at the test's clock.</summary>
    private async Task WriteBehindTheNodesBackAsync(string streamKey, long? atVersion, ILedgerEvent e)
    {
        var store = app.Host.Services.GetRequiredService<IDocumentStore>();
        await using var session = store.LightweightSession();
        var action = atVersion is { } version
            ? session.Events.Append(streamKey, version + 1, e)
            : session.Events.StartStream(streamKey, e);
        action.Events.Single().Timestamp = app.Clock.GetCurrentInstant().ToDateTimeOffset();
        await session.SaveChangesAsync(Ct);
    }

    private Task RegisterBehindTheNodesBackAsync(string company) =>
        WriteBehindTheNodesBackAsync(CompanyProfile.StreamKeyOf(company), atVersion: null,
            new CompanyRegistered(company, company.ToUpperInvariant(), CompanyKind.Other, new LocalDate(2024, 1, 1)));

    private Task<List<long>> VersionsAsync(string deal) =>
        Sql.QueryAsync(app.ConnectionString, $"select version from flowledger.mt_events where stream_id = '{deal}' order by version", r => r.GetInt64(0));

    private async Task<decimal> CashInAsync(string company) =>
        (await _api.GetAsync($"/api/companies/{company}/balance")).Json["cash"]!["USD"]!["in"]!.GetValue<decimal>();
}
