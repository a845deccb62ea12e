using System.Net;
using FlowLedger.Api.Tests.Fixtures;
using FlowLedger.Api.Ledger;
using FlowLedger.Domain;
using FlowLedger.Projections.Balances;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using NodaTime;
using static FlowLedger.Api.Tests.Fixtures.LedgerClient;

namespace FlowLedger.Api.Tests;

/// <summary>
/// SPEC §5: balances answered by the postings projection equal a from-scratch fold of the events, on
/// random histories with backdating, same-instant writes and reversals, at random (asOf, knownAt) —
/// and a rebuild of the projection changes no answer.
/// </summary>
public sealed class ProjectionMatchesReplayTests(AppFixture app) : IClassFixture<AppFixture>
{
    private readonly LedgerClient _api = LedgerClient.For(app);

    private IDocumentStore Store => app.Host.Services.GetRequiredService<IDocumentStore>();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task Projected_balances_equal_a_fold_from_scratch_at_random_points_and_after_a_rebuild(int seed)
    {
        var random = new Random(seed);
        var history = await RandomHistoryAsync(random, steps: 70);
        var points = Enumerable.Range(0, 12).Select(_ => RandomPoint(random, history)).Append(new PointInTime(null, app.Clock.GetCurrentInstant())).ToList();

        await ProjectionCheck.AssertMatchesFoldAsync(Store, history.Companies, points);

        var daemon = await Store.BuildProjectionDaemonAsync();
        await daemon.RebuildProjectionAsync("Postings", TimeSpan.FromMinutes(1), TestContext.Current.CancellationToken);

        await ProjectionCheck.AssertMatchesFoldAsync(Store, history.Companies, points);
    }

    [Fact]
    public async Task Posting_rows_of_an_older_store_get_their_event_sequence_at_start_and_read_as_before()
    {
        var history = await RandomHistoryAsync(new Random(5), steps: 30);
        var points = new[] { new PointInTime(null, app.Clock.GetCurrentInstant()) };
        // What a store written before the column existed looks like once the schema update has added it.
        await using (var connection = Store.Storage.Database.CreateConnection())
        {
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using var forget = new Npgsql.NpgsqlCommand(
                $"update {Store.Options.Events.DatabaseSchemaName}.{PostingsTable.Name} set event_sequence = null", connection);
            Assert.True(await forget.ExecuteNonQueryAsync(TestContext.Current.CancellationToken) > 0);
        }

        var backfill = app.Host.Services.GetServices<IHostedService>().OfType<PostingSequenceBackfill>().Single();
        await backfill.StartAsync(TestContext.Current.CancellationToken);

        await ProjectionCheck.AssertMatchesFoldAsync(Store, history.Companies, points);
    }

    private sealed record History(string[] Companies, List<Instant> Instants);

    private PointInTime RandomPoint(Random random, History history) => new(
        random.Next(4) == 0 ? null : new LocalDate(2025, 1, 1).PlusDays(random.Next(-10, 380)),
        history.Instants[random.Next(history.Instants.Count)].Plus(Duration.FromSeconds(random.Next(-1, 2))));

    /// <summary>
    /// Commands of every kind, most valid, some refused, on random days (so many are backdated),
    /// sometimes at the same instant as the one before, with reversals of earlier events.
    /// </summary>
    private async Task<History> RandomHistoryAsync(Random random, int steps)
    {
        var companies = Enumerable.Range(0, 4).Select(_ => Ids.New("c")).ToArray();
        foreach (var company in companies)
        {
            await _api.PostAsync("/api/companies", new { companyId = company, name = company, kind = "other", effectiveOn = Day(random), openingCash = Usd(random.Next(0, 50)) });
        }
        var deals = Enumerable.Range(0, 3).Select(_ => Ids.New("deal")).ToArray();
        var recordedEvents = new List<string>();
        var instants = new List<Instant> { app.Clock.GetCurrentInstant() };

        for (var step = 0; step < steps; step++)
        {
            if (random.Next(3) > 0)
            {
                app.Clock.Advance(Duration.FromMinutes(random.Next(1, 90)));
            }
            instants.Add(app.Clock.GetCurrentInstant());
            var (a, b) = (companies[random.Next(companies.Length)], companies[random.Next(companies.Length)]);
            if (a == b)
            {
                b = companies[(Array.IndexOf(companies, a) + 1) % companies.Length];
            }
            if (random.Next(10) == 0 && recordedEvents.Count > 0)
            {
                await _api.PostAsync($"/api/events/{recordedEvents[random.Next(recordedEvents.Count)]}/reversal", new { reason = "random" });
                continue;
            }
            var answer = await _api.PostAsync($"/api/deals/{deals[random.Next(deals.Length)]}/events", RandomEvent(random, a, b));
            if (answer.Status == HttpStatusCode.Created)
            {
                recordedEvents.Add(answer.Json["eventId"]!.GetValue<string>());
            }
        }
        Assert.True(recordedEvents.Count >= steps / 2, $"Only {recordedEvents.Count} of {steps} random commands were recorded.");
        return new History(companies, instants);
    }

    private static object RandomEvent(Random random, string a, string b)
    {
        var amount = Usd(random.Next(1, 60));
        var day = Day(random);
        return random.Next(13) switch
        {
            0 => new { type = "InvestmentAnnounced", investor = a, investee = b, upTo = Usd(random.Next(50, 200)), instrument = "equity", effectiveOn = day },
            1 => new { type = "InvestmentFunded", investor = a, investee = b, amount, effectiveOn = day },
            2 => new { type = "PurchaseCommitted", buyer = a, seller = b, amount = Usd(random.Next(20, 150)), effectiveOn = day },
            3 => new { type = "ChipsPurchased", buyer = a, vendor = b, chipModel = "H100", units = random.Next(1, 5), unitPrice = Usd(random.Next(1, 12)), effectiveOn = day },
            4 => new { type = "ServicesPaid", payer = a, payee = b, amount, description = "compute", effectiveOn = day },
            5 => new { type = "LoanDrawn", lender = a, borrower = b, amount, effectiveOn = day },
            6 => new { type = "LoanRepaid", lender = a, borrower = b, amount = Usd(random.Next(1, 20)), effectiveOn = day },
            7 => new { type = "RevenueRecognized", company = a, amount, effectiveOn = day },
            8 => new { type = "ExpenseIncurred", company = a, amount, category = "opex", effectiveOn = day },
            9 => new { type = "WarrantsIssued", issuer = a, holder = b, shares = random.Next(10, 100), strikePrice = Usd(random.Next(0, 3)), effectiveOn = day },
            10 => new { type = "WarrantsVested", issuer = a, holder = b, shares = random.Next(1, 40), effectiveOn = day },
            11 => new { type = "WarrantsExercised", issuer = a, holder = b, shares = random.Next(1, 20), effectiveOn = day },
            _ => (object)new { type = "CommitmentCancelled", reason = "random", effectiveOn = day },
        };
    }

    private static string Day(Random random) => new LocalDate(2025, 1, 1).PlusDays(random.Next(0, 365)).ToString("yyyy-MM-dd", null);
}
