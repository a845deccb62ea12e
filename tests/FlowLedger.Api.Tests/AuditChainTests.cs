using System.Net;
using System.Text.Json.Nodes;
using FlowLedger.Api.Audit;
using FlowLedger.Api.Tests.Fixtures;
using FlowLedger.Domain;
using Marten;
using Marten.Services;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Npgsql;
using static FlowLedger.Api.Tests.Fixtures.LedgerClient;

namespace FlowLedger.Api.Tests;

/// <summary>
/// SPEC §10: the events form a SHA-256 chain; GET /api/audit/verify and the verify command name the
/// first event altered or removed behind the application's back, in PostgreSQL itself.
/// </summary>
public sealed class AuditChainTests(AppFixture app) : IClassFixture<AppFixture>
{
    private readonly LedgerClient _api = LedgerClient.For(app);

    [Fact]
    public async Task Verify_names_the_first_event_changed_in_postgresql_and_is_ok_again_once_it_is_restored()
    {
        var sequences = await RecordPaymentsAsync(6);
        var intact = await VerifyAsync();
        Assert.True(intact["ok"]!.GetValue<bool>(), intact.ToJsonString());
        Assert.Equal(await CountEventsAsync(), intact["checked"]!.GetValue<long>());
        Assert.Equal(0, intact["pending"]!.GetValue<long>());

        var (third, fifth) = (sequences[2], sequences[4]);
        var original = await ExecuteAsync<string>($"select data::text from flowledger.mt_events where seq_id = {third}");
        await ExecuteAsync<object>($"update flowledger.mt_events set data = jsonb_set(data, '{{amount,amount}}', '1000000') where seq_id in ({third}, {fifth})");
        var altered = await VerifyAsync();
        Assert.False(altered["ok"]!.GetValue<bool>());
        Assert.Equal(third, altered["firstBrokenSequence"]!.GetValue<long>());
        Assert.Contains("differs from what was sealed", altered["problem"]!.GetValue<string>());

        await ExecuteAsync<object>($"update flowledger.mt_events set data = '{original}'::jsonb where seq_id = {third}");
        Assert.Equal(fifth, (await VerifyAsync())["firstBrokenSequence"]!.GetValue<long>());
        await ExecuteAsync<object>($"update flowledger.mt_events set data = jsonb_set(data, '{{amount,amount}}', '5') where seq_id = {fifth}");
        Assert.True((await VerifyAsync())["ok"]!.GetValue<bool>());

        await ExecuteAsync<object>($"update flowledger.mt_events set user_name = 'someone-else' where seq_id = {third}");
        Assert.Equal(third, (await VerifyAsync())["firstBrokenSequence"]!.GetValue<long>());
        await ExecuteAsync<object>($"update flowledger.mt_events set user_name = 'test-writer' where seq_id = {third}");
        Assert.True((await VerifyAsync())["ok"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Verify_names_an_event_deleted_and_the_event_after_a_removed_link()
    {
        var sequences = await RecordPaymentsAsync(4);
        var second = sequences[1];
        Assert.True((await VerifyAsync())["ok"]!.GetValue<bool>());

        await ExecuteAsync<object>($"create table flowledger.saved_event as select * from flowledger.mt_events where seq_id = {second}");
        await ExecuteAsync<object>($"delete from flowledger.mt_events where seq_id = {second}");
        var deleted = await VerifyAsync();
        await ExecuteAsync<object>("insert into flowledger.mt_events select * from flowledger.saved_event");
        Assert.False(deleted["ok"]!.GetValue<bool>());
        Assert.Equal(second, deleted["firstBrokenSequence"]!.GetValue<long>());
        Assert.Contains("deleted", deleted["problem"]!.GetValue<string>());
        Assert.True((await VerifyAsync())["ok"]!.GetValue<bool>());

        await ExecuteAsync<object>("drop table flowledger.saved_event");

        // A link removed: the next link no longer follows (its event is sealed again at the end once a restarted sealer reads the chain back).
        await ExecuteAsync<object>($"create table flowledger.saved_link as select * from flowledger.fl_audit_chain where seq_id = {second}");
        await ExecuteAsync<object>($"delete from flowledger.fl_audit_chain where seq_id = {second}");
        var unlinked = await VerifyAsync();
        await ExecuteAsync<object>($"""
            delete from flowledger.fl_audit_chain where seq_id = {second};
            insert into flowledger.fl_audit_chain select * from flowledger.saved_link;
            drop table flowledger.saved_link
            """);
        Assert.False(unlinked["ok"]!.GetValue<bool>());
        Assert.Equal(sequences[2], unlinked["firstBrokenSequence"]!.GetValue<long>());
        Assert.True((await VerifyAsync())["ok"]!.GetValue<bool>());
    }

    [Fact]
    public async Task The_verify_command_prints_the_report_and_fails_when_the_chain_is_broken()
    {
        var sequences = await RecordPaymentsAsync(2);
        var (ok, okOutput, okErrors) = await RunVerifyCommandAsync();
        Assert.True(ok == 0, okErrors);
        // Nothing but the report on stdout, so it can be piped.
        Assert.True(System.Text.Json.Nodes.JsonNode.Parse(okOutput)!["ok"]!.GetValue<bool>(), okOutput);

        await ExecuteAsync<object>($"update flowledger.mt_events set data = jsonb_set(data, '{{description}}', '\"<script>\"') where seq_id = {sequences[0]}");
        var (failed, failedOutput, failedErrors) = await RunVerifyCommandAsync();
        await ExecuteAsync<object>($"update flowledger.mt_events set data = jsonb_set(data, '{{description}}', '\"compute\"') where seq_id = {sequences[0]}");

        Assert.NotEqual(0, failed);
        Assert.Contains($"\"firstBrokenSequence\":{sequences[0]}", failedOutput);
        Assert.Contains($"The chain is broken at sequence {sequences[0]}", failedErrors);
    }

    [Fact]
    public async Task An_event_that_commits_after_later_ones_were_sealed_joins_the_chain_at_the_end()
    {
        var (a, b, _) = await _api.NewPartiesAsync();
        await using var connection = new NpgsqlConnection(app.ConnectionString);
        await connection.OpenAsync(Ct);
        await using var transaction = await connection.BeginTransactionAsync(Ct);
        await using (var late = Store.LightweightSession(SessionOptions.ForTransaction(transaction)))
        {
            // Appended, so its sequence is drawn, but not committed.
            late.Events.StartStream(Ids.New("late"), new ServicesPaid(a, b, new Money(5, "USD"), "late", new LocalDate(2025, 5, 1)));
            await late.SaveChangesAsync(Ct);
        }
        var later = await RecordPaymentsAsync(3);
        var before = await VerifyAsync();
        Assert.True(before["ok"]!.GetValue<bool>(), before.ToJsonString());
        Assert.Equal(await CountEventsAsync(), before["checked"]!.GetValue<long>());

        await transaction.CommitAsync(Ct);
        var after = await VerifyAsync();
        Assert.True(after["ok"]!.GetValue<bool>(), after.ToJsonString());
        Assert.Equal(await CountEventsAsync(), after["checked"]!.GetValue<long>());
        Assert.Equal(0, after["pending"]!.GetValue<long>());
        var lastSealed = await ExecuteAsync<long>($"select seq_id from flowledger.{AuditChain.TableName} order by position desc limit 1");
        Assert.True(lastSealed < later[0], $"The late event ({lastSealed}) should be the last link, after the later events from {later[0]}.");
    }

    [Fact]
    public async Task Two_sealers_taking_turns_seal_every_event_once()
    {
        // As two nodes do: each catches up with the links the other appended since its own last round.
        var sealers = new[] { app.Host.Services.GetRequiredService<AuditChain>(), new AuditChain(Store) };
        for (var round = 0; round < 6; round++)
        {
            await RecordPaymentsAsync(2);
            // The unique index on seq_id makes a second seal of one event fail the round.
            await sealers[round % 2].ExtendAsync(Ct);
        }
        var report = await VerifyAsync();
        Assert.True(report["ok"]!.GetValue<bool>(), report.ToJsonString());
        Assert.Equal(await CountEventsAsync(), report["checked"]!.GetValue<long>());
    }

    private IDocumentStore Store => app.Host.Services.GetRequiredService<IDocumentStore>();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<List<long>> RecordPaymentsAsync(int count)
    {
        var (a, b, deal) = await _api.NewPartiesAsync();
        var sequences = new List<long>();
        for (var i = 0; i < count; i++)
        {
            var recorded = await _api.RecordAsync(deal, new { type = "ServicesPaid", payer = a, payee = b, amount = Usd(5), description = "compute", effectiveOn = "2025-05-01" });
            sequences.Add(recorded["sequence"]!.GetValue<long>());
        }
        return sequences;
    }

    private async Task<JsonNode> VerifyAsync()
    {
        var answer = await _api.GetAsync("/api/audit/verify");
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        return answer.Json;
    }

    private async Task<long> CountEventsAsync() => await ExecuteAsync<long>("select count(*) from flowledger.mt_events");

    private Task<T> ExecuteAsync<T>(string sql) => Sql.ScalarAsync<T>(app.ConnectionString, sql);

    private Task<(int ExitCode, string Output, string Errors)> RunVerifyCommandAsync() => AppCommand.RunAsync(app.ConnectionString, "verify");
}
