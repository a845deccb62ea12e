using System.Net;
using FlowLedger.Api.Hosting;
using FlowLedger.Api.Ledger;
using FlowLedger.Api.Security;
using FlowLedger.Api.Tests.Fixtures;
using FlowLedger.Domain;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using NodaTime;
using Npgsql;
using static FlowLedger.Api.Tests.Fixtures.LedgerClient;

namespace FlowLedger.Api.Tests;

/// <summary>
/// Single commands that arrive together share a transaction (<see cref="GroupCommit"/>), yet each is decided as if it
/// came alone: a refused one holds back nothing, a later one sees the earlier ones accepted before it, and two with
/// one idempotency key are one event.
/// </summary>
public sealed class GroupCommitTests(UnlimitedFixture app) : IClassFixture<UnlimitedFixture>
{
    private readonly LedgerClient _api = LedgerClient.For(app);

    private static readonly LocalDate Day = new(2025, 6, 1);

    private const string Author = "group-test";

    private static Money Dollars(decimal amount) => new(amount, "USD");

    private GroupCommit Queue => app.Host.Services.GetRequiredService<GroupCommit>();

    private static PendingEntry Payment(string deal, string payer, string payee, decimal amount, string description, IdempotencyClaim? claim = null) =>
        new(deal, new ServicesPaid(payer, payee, Dollars(amount), description, Day), Idempotency: claim);

    [Fact]
    public async Task Each_entry_of_a_group_is_decided_as_if_alone_after_the_accepted_ones_before_it()
    {
        var (lender, borrower, _) = await _api.NewPartiesAsync();
        var (paid, unpaid, drawnThenRepaid, refusedLoan, stranger) = (Ids.New("paid"), Ids.New("unpaid"), Ids.New("loan"), Ids.New("refused-loan"), Ids.New("stranger"));
        var recorder = app.Host.Services.GetRequiredService<LedgerRecorder>();

        var outcomes = await recorder.RecordEachAsync(
        [
            new PendingEntry(paid, new ServicesPaid(borrower, lender, Dollars(5), "compute", Day)),
            new PendingEntry(unpaid, new LoanRepaid(lender, borrower, Dollars(10), Day)),
            new PendingEntry(drawnThenRepaid, new LoanDrawn(lender, borrower, Dollars(100), Day)),
            new PendingEntry(drawnThenRepaid, new LoanRepaid(lender, borrower, Dollars(40), Day)),
            new PendingEntry(refusedLoan, new LoanDrawn(lender, borrower, Dollars(-100), Day)),
            new PendingEntry(refusedLoan, new LoanRepaid(lender, borrower, Dollars(40), Day)),
            new PendingEntry(paid, new ServicesPaid(borrower, lender, Dollars(7), "more compute", Day), ExpectedVersion: 1),
            new PendingEntry(paid, new ServicesPaid(borrower, lender, Dollars(9), "stale", Day), ExpectedVersion: 1),
            new PendingEntry(paid, new ServicesPaid(borrower, stranger, Dollars(9), "to nobody", Day)),
        ], Author, TestContext.Current.CancellationToken);

        Assert.Equal(9, outcomes.Count);
        var recorded = outcomes.Select(o => (o as RecordOutcome.Recorded)?.Acknowledgements.Single()).ToList();
        Assert.All(new[] { 0, 2, 3, 6 }, i => Assert.NotNull(recorded[i]));
        Assert.Contains($"'{borrower}' owes only 0 USD", RefusalOf(outcomes[1]).Message);
        Assert.Contains("-100", RefusalOf(outcomes[4]).Message);
        // The loan it would repay was refused in the same group, so there is nothing to repay.
        Assert.Contains($"'{borrower}' owes only 0 USD", RefusalOf(outcomes[5]).Message);
        Assert.Contains("at version 2, not the expected 1", RefusalOf(outcomes[7]).Message);
        Assert.Contains($"Unknown company '{stranger}'", RefusalOf(outcomes[8]).Message);

        // Accepted entries keep the group's order within each deal, in one transaction. Like an import, the group appends
        // deal by deal, so the sequences of two deals interleave by deal, not by the group's order.
        Assert.Equal([1L, 1L, 2L, 2L], new[] { 0, 2, 3, 6 }.Select(i => recorded[i]!.Version));
        Assert.True(recorded[0]!.Sequence < recorded[6]!.Sequence && recorded[2]!.Sequence < recorded[3]!.Sequence);
        Assert.Single(new[] { 0, 2, 3, 6 }.Select(i => recorded[i]!.RecordedAt).Distinct());
        Assert.Equal(2, (await _api.EventsAsync(paid)).Count);
        Assert.Equal(2, (await _api.EventsAsync(drawnThenRepaid)).Count);
        Assert.Empty(await _api.EventsAsync(unpaid));
        Assert.Empty(await _api.EventsAsync(refusedLoan));
    }

    [Fact]
    public async Task Commands_sent_at_once_are_answered_each_on_its_own_and_one_key_records_one_event()
    {
        var (payer, payee, _) = await _api.NewPartiesAsync();
        var deals = Enumerable.Range(0, 48).Select(i => Ids.New($"burst-{i}")).ToArray();
        var sharedKey = Ids.New("key");
        var sharedKeyDeal = Ids.New("keyed");
        using var grouped = new MetricCollector<int>(app.Host.Services.GetRequiredService<IMeterFactory>(), RecorderMetrics.MeterName, RecorderMetrics.GroupedCommands);

        // Every fourth command repays a loan its deal never drew; two more carry one idempotency key and one body.
        var answers = await Task.WhenAll(deals.Select((deal, i) => Task.Run(() => i % 4 == 3
                ? _api.PostAsync($"/api/deals/{deal}/events", new { type = "LoanRepaid", lender = payee, borrower = payer, amount = Usd(1), effectiveOn = "2025-06-01" })
                : _api.PostAsync($"/api/deals/{deal}/events", new { type = "ServicesPaid", payer, payee, amount = Usd(i + 1), description = $"burst {i}", effectiveOn = "2025-06-01" })))
            .Concat(Enumerable.Range(0, 2).Select(_ => Task.Run(() => _api.PostAsync($"/api/deals/{sharedKeyDeal}/events",
                new { type = "ServicesPaid", payer, payee, amount = Usd(3), description = "keyed", effectiveOn = "2025-06-01" }, idempotencyKey: sharedKey)))));

        for (var i = 0; i < deals.Length; i++)
        {
            if (i % 4 == 3)
            {
                Assert.True(answers[i].Status == HttpStatusCode.UnprocessableEntity, $"command {i}: {(int)answers[i].Status} {answers[i].Body}");
                Assert.Empty(await _api.EventsAsync(deals[i]));
            }
            else
            {
                Assert.True(answers[i].Status == HttpStatusCode.Created, $"command {i}: {(int)answers[i].Status} {answers[i].Body}");
                var stored = Assert.Single(await _api.EventsAsync(deals[i]));
                Assert.Equal(answers[i].Json["eventId"]!.GetValue<string>(), stored!["eventId"]!.GetValue<string>());
                Assert.Equal($"burst {i}", stored["data"]!["description"]!.GetValue<string>());
            }
        }
        var keyed = answers[^2..];
        Assert.All(keyed, answer => Assert.Equal(HttpStatusCode.Created, answer.Status));
        Assert.Equal(keyed[0].Json["eventId"]!.GetValue<string>(), keyed[1].Json["eventId"]!.GetValue<string>());
        Assert.Single(await _api.EventsAsync(sharedKeyDeal));
        // The writer took every command once, and those that came while it was busy shared its next transaction.
        var groups = grouped.GetMeasurementSnapshot().Select(m => m.Value).ToList();
        Assert.Equal(deals.Length + 2, groups.Sum());
        Assert.True(groups.Count < deals.Length + 2, $"{groups.Count} transactions for {deals.Length + 2} commands sent at once");
    }

    [Fact]
    public async Task A_command_that_fails_its_group_fails_alone_and_the_others_are_recorded()
    {
        var (payer, payee, _) = await _api.NewPartiesAsync();
        var ct = TestContext.Current.CancellationToken;

        // The first keeps the writer busy while the rest queue up behind it as one group. The poisoned one passes every
        // rule but cannot be written: PostgreSQL's jsonb cannot hold its NUL character. No client can send one through
        // the HTTP API (the body parser refuses it), but it stands for any failure of one command's write.
        var first = Queue.RecordAsync(Payment(Ids.New("isolated"), payer, payee, 1, "first"), Author, ct);
        var rest = Enumerable.Range(0, 40)
            .Select(i => Queue.RecordAsync(Payment(Ids.New("isolated"), payer, payee, 1, i == 20 ? "poisoned \u0000" : $"payment {i}"), Author, ct))
            .ToList();

        Assert.IsType<RecordOutcome.Recorded>(await first);
        for (var i = 0; i < rest.Count; i++)
        {
            if (i == 20)
            {
                var failure = await Assert.ThrowsAnyAsync<Exception>(() => rest[i]);
                Assert.Equal(PostgresErrorCodes.UntranslatableCharacter, failure.FindInner<PostgresException>()?.SqlState);
            }
            else
            {
                Assert.IsType<RecordOutcome.Recorded>(await rest[i]);
            }
        }
    }

    [Fact]
    public async Task Two_commands_with_one_idempotency_key_queued_together_record_one_event()
    {
        var (payer, payee, deal) = await _api.NewPartiesAsync();
        var ct = TestContext.Current.CancellationToken;
        var keyed = Payment(deal, payer, payee, 3, "keyed", IdempotencyClaim.For(Ids.New("key"), "the same request"));

        // The first keeps the writer busy, so the two with one key are queued, and taken, together.
        var busy = Queue.RecordAsync(Payment(Ids.New("busy"), payer, payee, 1, "busy"), Author, ct);
        var (first, second) = (Queue.RecordAsync(keyed, Author, ct), Queue.RecordAsync(keyed, Author, ct));

        Assert.IsType<RecordOutcome.Recorded>(await busy);
        var acknowledged = new[] { await first, await second }
            .Select(outcome => Assert.Single(Assert.IsType<RecordOutcome.Recorded>(outcome).Acknowledgements).EventId)
            .ToList();
        Assert.Equal(acknowledged[0], acknowledged[1]);
        Assert.Single(await _api.EventsAsync(deal));
    }

    [Fact]
    public async Task A_command_whose_caller_gave_up_before_it_was_taken_is_not_recorded()
    {
        var (payer, payee, _) = await _api.NewPartiesAsync();
        var (abandonedDeal, keptDeal) = (Ids.New("abandoned"), Ids.New("kept"));

        var abandoned = Queue.RecordAsync(Payment(abandonedDeal, payer, payee, 1, "nobody waits"), Author, new CancellationToken(canceled: true));
        // Queued after it: once this one is answered, the writer has taken the abandoned one too.
        var kept = await Queue.RecordAsync(Payment(keptDeal, payer, payee, 2, "still wanted"), Author, TestContext.Current.CancellationToken);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);
        Assert.IsType<RecordOutcome.Recorded>(kept);
        Assert.Empty(await _api.EventsAsync(abandonedDeal));
        Assert.Single(await _api.EventsAsync(keptDeal));
    }

    [Fact]
    public async Task Commands_of_two_authors_sent_at_once_are_each_recorded_by_their_own_author()
    {
        var (payer, payee, _) = await _api.NewPartiesAsync();
        var authors = new[] { Role.Writer, Role.Admin }.Select(role => (Name: AppFixture.KeyName(role), Client: LedgerClient.WithKey(app, app.Keys[role]))).ToArray();
        var deals = Enumerable.Range(0, 48).Select(i => Ids.New($"authored-{i}")).ToArray();

        var answers = await Task.WhenAll(deals.Select((deal, i) => Task.Run(() => authors[i % 2].Client.PostAsync($"/api/deals/{deal}/events",
            new { type = "ServicesPaid", payer, payee, amount = Usd(i + 1), description = $"by {authors[i % 2].Name}", effectiveOn = "2025-06-01" }))));

        for (var i = 0; i < deals.Length; i++)
        {
            Assert.True(answers[i].Status == HttpStatusCode.Created, $"command {i}: {(int)answers[i].Status} {answers[i].Body}");
            var stored = Assert.Single(await _api.EventsAsync(deals[i]));
            Assert.Equal(authors[i % 2].Name, stored!["recordedBy"]!.GetValue<string>());
        }
    }

    private static RuleBreak RefusalOf(RecordOutcome outcome) =>
        Assert.Single(Assert.IsType<RecordOutcome.Refused>(outcome).Breaks).Break;
}
