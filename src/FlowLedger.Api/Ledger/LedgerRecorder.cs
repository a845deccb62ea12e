using System.Security.Cryptography;
using System.Text;
using FlowLedger.Domain;
using FlowLedger.Projections;
using JasperFx.Events;
using Marten;
using JasperFx;
using NodaTime;
using Npgsql;

namespace FlowLedger.Api.Ledger;

/// <summary>One event a client asked to record, with what the client said about it.</summary>
/// <param name="DealId">The deal stream, or null for a <see cref="CompanyRegistered"/>.</param>
/// <param name="ExpectedVersion">The deal's version the client last saw, for optimistic concurrency.</param>
/// <param name="Idempotency">The client's key and a hash of what it sent under that key.</param>
public sealed record PendingEntry(string? DealId, ILedgerEvent Event, long? ExpectedVersion = null, IdempotencyClaim? Idempotency = null);

public sealed record IdempotencyClaim(string Key, string RequestHash)
{
    public static IdempotencyClaim For(string key, params string[] request) =>
        new(key, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', request)))));
}

/// <summary>What the client is told about a recorded event (SPEC §9).</summary>
public sealed record Acknowledgement(Guid EventId, long Sequence, string? DealId, string? CompanyId, long Version, Instant RecordedAt);

/// <summary>An idempotency key and the events recorded under it; stored in the same transaction as the events.</summary>
public sealed record IdempotencyRecord(string Id, string RequestHash, Guid EventId);

public abstract record RecordOutcome
{
    public sealed record Recorded(IReadOnlyList<Acknowledgement> Acknowledgements) : RecordOutcome;

    /// <summary>Entries refused, by their index in the request; nothing was written.</summary>
    public sealed record Refused(IReadOnlyList<(int Index, RuleBreak Break)> Breaks) : RecordOutcome;
}

/// <summary>
/// The one write path of the ledger: every endpoint and the importer record through it. It decides
/// all entries against the store as it is, appends them in one transaction, and retries the whole
/// decision when another writer got there first — so concurrent writers can never together break
/// a rule that each one checked alone. What the store holds is, where this node already knows it,
/// taken from <see cref="KnownStreams"/> instead of read, and the append checks that it was still so.
/// </summary>
public sealed class LedgerRecorder(
    IDocumentStore store, LedgerWriterConnections connections, EventAppendNotifier notifier, PlannerStatistics statistics,
    AnalysisIndexCompaction compaction, KnownStreams known, RecorderMetrics metrics, IClock clock,
    ILogger<LedgerRecorder> logger)
{
    private const int MaxAttempts = 8;

    /// <summary>Npgsql's command timeout for none.</summary>
    private const int Unbounded = 0;

    /// <summary>
    /// Events in one write from which it counts as a bulk load, after which the tables' upkeep starts in the background:
    /// first statistics (<see cref="PlannerStatistics"/>) and a rebuild of a bloated analysis index
    /// (<see cref="AnalysisIndexCompaction"/>).
    /// </summary>
    public const int BulkEntries = 1_000;

    /// <summary>
    /// Records the entries all together or, when any of them breaks a rule, none of them: an import, one transaction that
    /// may rightly take minutes on a large store. Its statements are therefore not bounded by the connection string's
    /// timeout (30 s unless set), which is for single commands: an import held up past it failed whole with a 500, as
    /// a 50,000-line chunk into a store of 800,000 events once did (docs/benchmarks.md). Its request has no timeout
    /// either; <paramref name="ct"/>, its client going away, ends it.
    /// </summary>
    public async Task<RecordOutcome> RecordAsync(IReadOnlyList<PendingEntry> entries, string recordedBy, CancellationToken ct) =>
        (await RecordAsync(entries, recordedBy, eachAlone: false, ct)).Single();

    /// <summary>
    /// Records each entry as if it came alone, in one transaction: an entry that breaks a rule is refused without
    /// holding back the others, and its outcome is at its index. Entries later in the list are decided against the
    /// earlier ones that were accepted, as if they had come one after the other. No two may share an idempotency key.
    /// </summary>
    public Task<IReadOnlyList<RecordOutcome>> RecordEachAsync(IReadOnlyList<PendingEntry> entries, string recordedBy, CancellationToken ct) =>
        RecordAsync(entries, recordedBy, eachAlone: true, ct);

    private async Task<IReadOnlyList<RecordOutcome>> RecordAsync(IReadOnlyList<PendingEntry> entries, string recordedBy, bool eachAlone, CancellationToken ct)
    {
        var mayGuess = true;
        for (var attempt = 1; ; attempt++)
        {
            // One connection for the read and the transaction: the session commits on it and closes it.
            await using var connection = await connections.OpenAsync(ct);
            var options = Marten.Services.SessionOptions.ForConnection(connection);
            if (!eachAlone)
            {
                options.Timeout = Unbounded;
            }
            await using var session = store.LightweightSession(options);
            session.LastModifiedBy = recordedBy;
            session.Logger = new RetriedConflictsLeftToTheRecorder(session.Logger);
            Decision? decision = null;
            try
            {
                decision = await DecideAsync(session, connection, entries, mayGuess, ct);
                metrics.Decided(decision.Guessed);
                if (decision.Breaks.Count > 0 && !eachAlone)
                {
                    return [new RecordOutcome.Refused(decision.Breaks)];
                }
                var refused = decision.Breaks.ToLookup(b => b.Index, b => b.Break);
                var appended = Append(session, entries, decision, refused);
                await session.SaveChangesAsync(ct);
                Remember(entries, decision, appended);
                if (appended.Count > 0)
                {
                    notifier.EventsCommitted();
                }
                if (appended.Count >= BulkEntries)
                {
                    _ = statistics.AnalyseNeverAnalysedInBackground();
                    _ = compaction.CompactIfBloatedInBackground();
                }
                var acknowledgements = await AcknowledgeAsync(session, entries, decision, appended, refused, ct);
                return eachAlone
                    ? Enumerable.Range(0, entries.Count)
                        .Select(i => refused.Contains(i)
                            ? (RecordOutcome)new RecordOutcome.Refused(refused[i].Select(b => (0, b)).ToList())
                            : new RecordOutcome.Recorded([acknowledgements[i]]))
                        .ToList()
                    : [new RecordOutcome.Recorded(acknowledgements.Values.ToList())];
            }
            catch (Exception ex) when (IsWriteConflict(ex))
            {
                metrics.Conflicted(decision is { Guessed: true });
                if (attempt == MaxAttempts)
                {
                    logger.LogWarning(ex, "Gave up after {Attempts} write conflicts", attempt);
                    var gaveUp = new RuleBreak(Refusal.Conflict, "Other writers kept changing the same deal; nothing was recorded. Retry.");
                    return eachAlone
                        ? entries.Select(_ => (RecordOutcome)new RecordOutcome.Refused([(0, gaveUp)])).ToList()
                        : [new RecordOutcome.Refused(Enumerable.Range(0, entries.Count).Select(i => (i, gaveUp)).ToList())];
                }
                mayGuess = false;
                if (decision is { Guessed: true })
                {
                    // What this node knew was stale: read what is there now, at once, as nothing contends.
                    logger.LogDebug(ex, "A decision without reading was stale; reading and deciding again");
                    continue;
                }
                // Someone else wrote to the same streams or used the same idempotency key since we read:
                // decide again against what is there now. A bulk write is one importer's long transaction, where a
                // conflict is rare and costs the whole attempt: it is logged where an operator sees it, with its cause.
                logger.Log(entries.Count >= BulkEntries ? LogLevel.Information : LogLevel.Debug, ex,
                    "Write conflict on attempt {Attempt} of a write of {Entries} entries; deciding again", attempt, entries.Count);
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 10 * attempt)), ct);
            }
        }
    }

    private sealed class Decision(bool guessed)
    {
        /// <summary>Decided on what this node knew (<see cref="KnownStreams"/>), not on a read: the write checks it.</summary>
        public bool Guessed { get; } = guessed;
        public List<(int Index, RuleBreak Break)> Breaks { get; } = new();
        public Dictionary<int, Guid> Replayed { get; } = new();
        public Dictionary<string, DealStream> Deals { get; } = new(StringComparer.Ordinal);
    }

    /// <param name="Stored">The deal as the decision took it to be stored; the decider holds that and what the request added.</param>
    private sealed record DealStream(KnownDeal Stored, DealDecider Decider)
    {
        /// <summary>The stored version and the request's entries accepted so far for the deal.</summary>
        public long CurrentVersion => Stored.Version + Decider.History.Count - Stored.History.Count;
    }

    /// <summary>
    /// Decides on what this node already knows when it may, and it knows enough; a guess that refuses anything is
    /// decided again on a read, so that every refusal is decided on what the store holds.
    /// </summary>
    private async Task<Decision> DecideAsync(IDocumentSession session, NpgsqlConnection connection, IReadOnlyList<PendingEntry> entries, bool mayGuess, CancellationToken ct)
    {
        if (mayGuess && await known.RecallAsync(connection, entries, ct) is { } recalled)
        {
            var guess = Decide(entries, recalled, guessed: true);
            if (guess.Breaks.Count == 0)
            {
                return guess;
            }
        }
        var read = await LoadAsync(session, entries, ct);
        known.Learn(read);
        return Decide(entries, read, guessed: false);
    }

    private Decision Decide(IReadOnlyList<PendingEntry> entries, DecisionBasis basis, bool guessed)
    {
        var decision = new Decision(guessed);
        foreach (var (dealId, deal) in basis.Deals)
        {
            decision.Deals[dealId] = new DealStream(deal, new DealDecider(deal.History));
        }
        var claims = basis.Claims;
        // A copy: the request's own registrations join it, so that later entries may name them.
        var companies = basis.Companies.ToHashSet(StringComparer.Ordinal);
        var now = clock.GetCurrentInstant();

        for (var index = 0; index < entries.Count; index++)
        {
            var entry = entries[index];
            if (entry.Idempotency is { } claim && claims.TryGetValue(claim.Key, out var existing))
            {
                if (existing.RequestHash == claim.RequestHash)
                {
                    decision.Replayed[index] = existing.EventId;
                }
                else
                {
                    decision.Breaks.Add((index, new RuleBreak(Refusal.Conflict,
                        $"Idempotency key '{claim.Key}' was already used for a different request.")));
                }
                continue;
            }
            if (entry.Idempotency is { } repeated && entries.Take(index).Any(e => e.Idempotency?.Key == repeated.Key))
            {
                decision.Breaks.Add((index, RuleBreak.Malformed($"Idempotency key '{repeated.Key}' appears twice in one request.")));
                continue;
            }

            var breaks = EventRules.Check(entry.Event).ToList();
            breaks.AddRange(EventRules.PartiesOf(entry.Event)
                .Where(party => entry.Event is not CompanyRegistered && !companies.Contains(party))
                .Select(party => RuleBreak.Broken($"Unknown company '{party}': register it first (POST /api/companies).")));
            if (breaks.Count == 0)
            {
                breaks.AddRange(entry.Event is CompanyRegistered registration
                    ? CheckRegistration(registration, companies)
                    : CheckDealEvent(decision, entry, index, now));
            }
            decision.Breaks.AddRange(breaks.Select(b => (index, b)));
        }
        return decision;
    }

    private static IEnumerable<RuleBreak> CheckRegistration(CompanyRegistered registration, HashSet<string> companies)
    {
        if (!companies.Add(registration.CompanyId))
        {
            yield return new RuleBreak(Refusal.Conflict, $"Company '{registration.CompanyId}' is already registered.");
        }
    }

    private static IEnumerable<RuleBreak> CheckDealEvent(Decision decision, PendingEntry entry, int index, Instant now)
    {
        if (!EventRules.IsSlug(entry.DealId))
        {
            return [RuleBreak.Malformed($"dealId '{entry.DealId}' must match [a-z0-9-]{{1,64}}.")];
        }
        var deal = decision.Deals[entry.DealId!];
        var currentVersion = deal.CurrentVersion;
        if (entry.ExpectedVersion is { } expected && expected != currentVersion)
        {
            return [new RuleBreak(Refusal.Conflict,
                $"Deal '{entry.DealId}' is at version {currentVersion}, not the expected {expected}: read it again and retry.")];
        }

        // Not yet stored: it sorts after every recorded event of its day, in request order.
        return deal.Decider.Accept(new RecordedEntry(Guid.NewGuid(), RecordedEntry.Unstored + index, now, entry.Event));
    }

    /// <summary>
    /// Reads, in one round trip, what deciding needs: the idempotency records of the request's keys, which of
    /// the companies it names are registered, and the stream of every deal it writes to.
    /// </summary>
    private static async Task<DecisionBasis> LoadAsync(IDocumentSession session, IReadOnlyList<PendingEntry> entries, CancellationToken ct)
    {
        var batch = session.CreateBatchQuery();
        var keys = entries.Select(e => e.Idempotency?.Key).OfType<string>().Distinct().ToArray();
        var records = keys.Length == 0 ? Task.FromResult<IReadOnlyList<IdempotencyRecord>>([]) : batch.LoadMany<IdempotencyRecord>().ById(keys);
        var named = DecisionBasis.CompaniesNamedBy(entries).Select(CompanyProfile.StreamKeyOf).ToArray();
        var profiles = batch.LoadMany<CompanyProfile>().ById(named);
        var streams = DecisionBasis.DealsOf(entries).ToDictionary(dealId => dealId, dealId => batch.Events.FetchStream(dealId), StringComparer.Ordinal);
        await batch.Execute(ct);

        var deals = new Dictionary<string, KnownDeal>(StringComparer.Ordinal);
        foreach (var (dealId, fetched) in streams)
        {
            var events = await fetched;
            deals[dealId] = events.Count == 0 ? KnownDeal.New : new KnownDeal(events[^1].Version, events.Select(e => e.ToRecordedEntry()).ToList());
        }
        return new DecisionBasis(
            (await records).ToDictionary(r => r.Id, StringComparer.Ordinal),
            (await profiles).Select(p => p.CompanyId).ToHashSet(StringComparer.Ordinal),
            deals);
    }

    /// <summary>Keeps every stream just committed to, with the deals' histories as they now stand, for the next decision.</summary>
    private void Remember(IReadOnlyList<PendingEntry> entries, Decision decision, Dictionary<int, IEvent> appended)
    {
        foreach (var stream in appended.GroupBy(a => StreamKeyOf(entries[a.Key]), a => a.Value))
        {
            var fresh = stream.OrderBy(e => e.Version).ToList();
            known.Committed(stream.Key, decision.Deals.TryGetValue(stream.Key, out var decided)
                ? new KnownDeal(fresh[^1].Version, [.. decided.Stored.History, .. fresh.Select(e => e.ToRecordedEntry())])
                : null);
        }
    }

    /// <summary>Queues the accepted entries, one stream action per stream in request order, with the recorded time.</summary>
    private Dictionary<int, IEvent> Append(IDocumentSession session, IReadOnlyList<PendingEntry> entries, Decision decision, ILookup<int, RuleBreak> refused)
    {
        var recordedAt = clock.GetCurrentInstant();
        // PostgreSQL keeps microseconds: truncate so the instant we answer is the instant we store.
        var timestamp = recordedAt.Minus(Duration.FromTicks(recordedAt.ToUnixTimeTicks() % 10)).ToDateTimeOffset();
        var appended = new Dictionary<int, IEvent>();

        foreach (var group in Enumerable.Range(0, entries.Count)
                     .Where(i => !decision.Replayed.ContainsKey(i) && !refused.Contains(i))
                     .GroupBy(i => StreamKeyOf(entries[i])))
        {
            var events = group.Select(i => (object)entries[i].Event).ToArray();
            var isNew = entries[group.First()].DealId is not { } dealId || decision.Deals[dealId].Stored.Version == 0;
            var action = isNew
                ? session.Events.StartStream(group.Key, events)
                : session.Events.Append(group.Key, decision.Deals[entries[group.First()].DealId!].Stored.Version + events.Length, events);
            foreach (var (index, e) in group.Zip(action.Events))
            {
                e.Timestamp = timestamp;
                // Time-ordered rather than Marten's random ids: the postings' indexes that lead with the event id then
                // grow at their right edge, instead of every command changing a random page of them. On the
                // 1,000,000-event store that cut the WAL written per command by three quarters (docs/benchmarks.md).
                e.Id = Guid.CreateVersion7(timestamp);
                appended[index] = e;
                if (entries[index].Idempotency is { } claim)
                {
                    session.Insert(new IdempotencyRecord(claim.Key, claim.RequestHash, e.Id));
                }
            }
        }
        return appended;
    }

    private static string StreamKeyOf(PendingEntry entry) => entry.Event is CompanyRegistered c
        ? CompanyProfile.StreamKeyOf(c.CompanyId)
        : entry.DealId!;

    /// <summary>The acknowledgement of every entry recorded or replayed, by index, in request order.</summary>
    private static async Task<SortedDictionary<int, Acknowledgement>> AcknowledgeAsync(
        IDocumentSession session, IReadOnlyList<PendingEntry> entries, Decision decision, Dictionary<int, IEvent> appended, ILookup<int, RuleBreak> refused,
        CancellationToken ct)
    {
        var acknowledgements = new SortedDictionary<int, Acknowledgement>();
        foreach (var index in Enumerable.Range(0, entries.Count).Where(i => !refused.Contains(i)))
        {
            var e = appended.TryGetValue(index, out var fresh)
                ? fresh
                : await session.Events.LoadAsync(decision.Replayed[index], ct)
                  ?? throw new InvalidOperationException($"Idempotency record points at missing event {decision.Replayed[index]}.");
            acknowledgements[index] = Acknowledge(e);
        }
        return acknowledgements;
    }

    public static Acknowledgement Acknowledge(IEvent e) => new(
        e.Id, e.Sequence,
        DealId: e.Data is IDealEvent ? e.StreamKey : null,
        CompanyId: (e.Data as CompanyRegistered)?.CompanyId,
        e.Version, Instant.FromDateTimeOffset(e.Timestamp));

    internal static bool IsWriteConflict(Exception ex) => ex switch
    {
        // Marten and JasperFx each have their own exception types for the same conflicts.
        ConcurrencyException or ExistingStreamIdCollisionException or DocumentAlreadyExistsException => true,
        Marten.Exceptions.ExistingStreamIdCollisionException => true,
        PostgresException { SqlState: PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.SerializationFailure } => true,
        _ when ex.InnerException is not null => IsWriteConflict(ex.InnerException),
        _ => false,
    };
}
