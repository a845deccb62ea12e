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
    /// either; <paramref name="ct"/>, its client going away, ends it. An import of many deals is read, decided and
    /// written <see cref="DealsPerSlice"/> deals at a time, within its one transaction.
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

    /// <summary>
    /// Deals an import reads, decides and writes at a time, within its one transaction. Read all at once, the deals of
    /// a large chunk were most of a large store: 5,606 deals with 758,671 events for 50,000 lines into 800,000 events,
    /// and 560 MB of live objects while they were decided. That chunk peaked at 1,288 MiB of RSS read whole, 982 MiB in
    /// slices of 500 deals, and 757–799 MiB in slices of 50 to 200, no slower (docs/benchmarks.md).
    /// </summary>
    public const int DealsPerSlice = 100;

    private async Task<IReadOnlyList<RecordOutcome>> RecordAsync(IReadOnlyList<PendingEntry> entries, string recordedBy, bool eachAlone, CancellationToken ct)
    {
        var mayGuess = true;
        for (var attempt = 1; ; attempt++)
        {
            // One connection for the reads and the transaction. A group's session begins and commits its transaction; an
            // import's transaction is the recorder's, as it writes the import slice by slice before it commits.
            await using var connection = await connections.OpenAsync(ct);
            await using var transaction = eachAlone ? null : await connection.BeginTransactionAsync(ct);
            await using var session = store.LightweightSession(SessionFor(connection, transaction));
            session.LastModifiedBy = recordedBy;
            session.Logger = new RetriedConflictsLeftToTheRecorder(session.Logger);
            Decision? decision = null;
            try
            {
                var guess = mayGuess ? await GuessAsync(connection, entries, ct) : null;
                decision = guess?.Decision ?? new Decision(guessed: false);
                metrics.Decided(decision.Guessed);
                var recordedAt = RecordedAt();
                var appended = new Dictionary<int, IEvent>();
                Slice? last = null;
                var slices = guess is { } guessed ? new[] { guessed.Slice }.ToAsyncEnumerable() : ReadAndDecideAsync(session, entries, decision, ct);
                await foreach (var slice in slices)
                {
                    last = slice;
                    // An import that broke a rule is still decided to its end, so that every failing line is named, but
                    // nothing more of it is written.
                    if (eachAlone || decision.Breaks.Count == 0)
                    {
                        Append(session, entries, decision, slice, recordedAt, appended);
                        if (transaction is not null)
                        {
                            await session.SaveChangesAsync(ct);
                        }
                    }
                }
                if (decision.Breaks.Count > 0 && !eachAlone)
                {
                    return [new RecordOutcome.Refused(decision.Breaks.OrderBy(b => b.Index).ToList())];
                }
                if (transaction is null)
                {
                    await session.SaveChangesAsync(ct);
                }
                // Before an import's commit, while its transaction still serves the reads of the events it replays.
                var acknowledgements = await AcknowledgeAsync(session, entries, decision, appended, ct);
                if (transaction is not null)
                {
                    await transaction.CommitAsync(ct);
                }
                Remember(entries, last?.Indices.Count == entries.Count ? last : null, appended);
                if (appended.Count > 0)
                {
                    notifier.EventsCommitted();
                }
                if (appended.Count >= BulkEntries)
                {
                    _ = statistics.AnalyseNeverAnalysedInBackground();
                    _ = compaction.CompactIfBloatedInBackground();
                }
                var refused = decision.Breaks.ToLookup(b => b.Index, b => b.Break);
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

    /// <summary>
    /// A group's session on the connection, with its statement timeout; an import's on the recorder's transaction,
    /// without one (see <see cref="RecordAsync(IReadOnlyList{PendingEntry}, string, CancellationToken)"/>).
    /// </summary>
    private static Marten.Services.SessionOptions SessionFor(NpgsqlConnection connection, NpgsqlTransaction? transaction)
    {
        if (transaction is null)
        {
            return Marten.Services.SessionOptions.ForConnection(connection);
        }
        var options = Marten.Services.SessionOptions.ForTransaction(transaction);
        options.Timeout = Unbounded;
        return options;
    }

    /// <summary>What the whole request decided so far, across its slices.</summary>
    private sealed class Decision(bool guessed)
    {
        private readonly HashSet<int> _refused = [];

        /// <summary>Decided on what this node knew (<see cref="KnownStreams"/>), not on a read: the write checks it.</summary>
        public bool Guessed { get; } = guessed;
        public List<(int Index, RuleBreak Break)> Breaks { get; } = new();
        public Dictionary<int, Guid> Replayed { get; } = new();

        /// <summary>The companies the request registers, each at the index of its accepted registration.</summary>
        public Dictionary<string, int> RegisteredAt { get; } = new(StringComparer.Ordinal);

        public void Refuse(int index, IEnumerable<RuleBreak> breaks)
        {
            foreach (var rule in breaks)
            {
                Breaks.Add((index, rule));
                _refused.Add(index);
            }
        }

        public bool IsRefused(int index) => _refused.Contains(index);
    }

    /// <summary>Entries of the request, by index in request order, decided together with the deals they write to.</summary>
    private sealed record Slice(IReadOnlyList<int> Indices, Dictionary<string, DealStream> Deals);

    /// <param name="Stored">The deal as the decision took it to be stored; the decider holds that and what the request added.</param>
    private sealed record DealStream(KnownDeal Stored, DealDecider Decider)
    {
        /// <summary>The stored version and the request's entries accepted so far for the deal.</summary>
        public long CurrentVersion => Stored.Version + Decider.History.Count - Stored.History.Count;
    }

    /// <summary>
    /// The whole request decided on what this node already knows, when it knows enough; null when it does not, or the
    /// guess refuses anything, so that every refusal is decided on what the store holds.
    /// </summary>
    private async Task<(Decision Decision, Slice Slice)?> GuessAsync(NpgsqlConnection connection, IReadOnlyList<PendingEntry> entries, CancellationToken ct)
    {
        if (await known.RecallAsync(connection, entries, ct) is not { } recalled)
        {
            return null;
        }
        var decision = new Decision(guessed: true);
        var slice = Decide(entries, recalled, decision, [.. Enumerable.Range(0, entries.Count)]);
        return decision.Breaks.Count == 0 ? (decision, slice) : null;
    }

    /// <summary>
    /// Decides the request on what the store holds: a request of up to <see cref="DealsPerSlice"/> deals on one read, a
    /// larger one slice by slice, each slice's deals read as it comes, so that no more than a slice's histories are
    /// held at once. The first read also brings the idempotency records and the companies for the whole request, and
    /// the first slice holds every entry that writes to none of the later slices' deals, registrations among them.
    /// </summary>
    private async IAsyncEnumerable<Slice> ReadAndDecideAsync(
        IDocumentSession session, IReadOnlyList<PendingEntry> entries, Decision decision, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var dealSlices = DecisionBasis.DealsOf(entries).Chunk(DealsPerSlice).ToList();
        var basis = await LoadAsync(session, entries, dealSlices.FirstOrDefault() ?? [], ct);
        known.Learn(basis);
        if (dealSlices.Count <= 1)
        {
            yield return Decide(entries, basis, decision, [.. Enumerable.Range(0, entries.Count)]);
            yield break;
        }

        var sliceOfDeal = dealSlices.SelectMany((deals, slice) => deals.Select(deal => (deal, slice))).ToDictionary(d => d.deal, d => d.slice, StringComparer.Ordinal);
        var indicesBySlice = Enumerable.Range(0, entries.Count)
            .ToLookup(i => entries[i].DealId is { } deal && sliceOfDeal.TryGetValue(deal, out var slice) ? slice : 0);
        yield return Decide(entries, basis, decision, [.. indicesBySlice[0]]);
        for (var slice = 1; slice < dealSlices.Count; slice++)
        {
            var sliceBasis = basis with { Deals = (await LoadAsync(session, [], dealSlices[slice], ct)).Deals };
            known.Learn(sliceBasis);
            yield return Decide(entries, sliceBasis, decision, [.. indicesBySlice[slice]]);
        }
    }

    /// <summary>
    /// Decides the entries at <paramref name="indices"/>, in request order, as if each came after every entry before it
    /// that was accepted. A registration counts for the entries after it in any slice: every registration is in the
    /// first slice (<see cref="Decision.RegisteredAt"/>).
    /// </summary>
    private Slice Decide(IReadOnlyList<PendingEntry> entries, DecisionBasis basis, Decision decision, IReadOnlyList<int> indices)
    {
        var deals = basis.Deals.ToDictionary(d => d.Key, d => new DealStream(d.Value, new DealDecider(d.Value.History)), StringComparer.Ordinal);
        var claims = basis.Claims;
        var now = clock.GetCurrentInstant();

        foreach (var index in indices)
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
                    decision.Refuse(index, [new RuleBreak(Refusal.Conflict, $"Idempotency key '{claim.Key}' was already used for a different request.")]);
                }
                continue;
            }
            if (entry.Idempotency is { } repeated && entries.Take(index).Any(e => e.Idempotency?.Key == repeated.Key))
            {
                decision.Refuse(index, [RuleBreak.Malformed($"Idempotency key '{repeated.Key}' appears twice in one request.")]);
                continue;
            }

            var breaks = EventRules.Check(entry.Event).ToList();
            breaks.AddRange(EventRules.PartiesOf(entry.Event)
                .Where(party => entry.Event is not CompanyRegistered && !IsRegisteredBefore(party, index, basis, decision))
                .Select(party => RuleBreak.Broken($"Unknown company '{party}': register it first (POST /api/companies).")));
            if (breaks.Count == 0)
            {
                breaks.AddRange(entry.Event is CompanyRegistered registration
                    ? CheckRegistration(registration, index, basis, decision)
                    : CheckDealEvent(deals, entry, index, now));
            }
            decision.Refuse(index, breaks);
        }
        return new Slice(indices, deals);
    }

    private static bool IsRegisteredBefore(string company, int index, DecisionBasis basis, Decision decision) =>
        basis.Companies.Contains(company) || decision.RegisteredAt.TryGetValue(company, out var at) && at < index;

    private static IEnumerable<RuleBreak> CheckRegistration(CompanyRegistered registration, int index, DecisionBasis basis, Decision decision)
    {
        if (basis.Companies.Contains(registration.CompanyId) || !decision.RegisteredAt.TryAdd(registration.CompanyId, index))
        {
            yield return new RuleBreak(Refusal.Conflict, $"Company '{registration.CompanyId}' is already registered.");
        }
    }

    private static IEnumerable<RuleBreak> CheckDealEvent(Dictionary<string, DealStream> deals, PendingEntry entry, int index, Instant now)
    {
        if (!EventRules.IsSlug(entry.DealId))
        {
            return [RuleBreak.Malformed($"dealId '{entry.DealId}' must match [a-z0-9-]{{1,64}}.")];
        }
        var deal = deals[entry.DealId!];
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
    /// Reads, in one round trip, the idempotency records of the keys of <paramref name="entries"/>, which of the
    /// companies they name are registered, and the streams of <paramref name="dealIds"/>; only the statements with
    /// something to read are sent.
    /// </summary>
    private static async Task<DecisionBasis> LoadAsync(IDocumentSession session, IReadOnlyList<PendingEntry> entries, IReadOnlyList<string> dealIds, CancellationToken ct)
    {
        var batch = session.CreateBatchQuery();
        var keys = entries.Select(e => e.Idempotency?.Key).OfType<string>().Distinct().ToArray();
        var records = keys.Length == 0 ? Task.FromResult<IReadOnlyList<IdempotencyRecord>>([]) : batch.LoadMany<IdempotencyRecord>().ById(keys);
        var named = DecisionBasis.CompaniesNamedBy(entries).Select(CompanyProfile.StreamKeyOf).ToArray();
        var profiles = named.Length == 0 ? Task.FromResult<IReadOnlyList<CompanyProfile>>([]) : batch.LoadMany<CompanyProfile>().ById(named);
        var deals = dealIds.Count == 0 ? Task.FromResult(new Dictionary<string, KnownDeal>(StringComparer.Ordinal)) : batch.AddItem(new DealHistories(dealIds));
        await batch.Execute(ct);
        return new DecisionBasis(
            (await records).ToDictionary(r => r.Id, StringComparer.Ordinal),
            (await profiles).Select(p => p.CompanyId).ToHashSet(StringComparer.Ordinal),
            await deals);
    }

    /// <summary>
    /// Keeps every stream just committed to for the next decision: with the deals' histories as they now stand when the
    /// request was decided whole (<paramref name="whole"/>); a request decided in slices holds only its last slice by
    /// now, so the histories of its deals are dropped, to be read again when next needed.
    /// </summary>
    private void Remember(IReadOnlyList<PendingEntry> entries, Slice? whole, Dictionary<int, IEvent> appended)
    {
        foreach (var stream in appended.GroupBy(a => StreamKeyOf(entries[a.Key]), a => a.Value))
        {
            var fresh = stream.OrderBy(e => e.Version).ToList();
            if (fresh[0].Data is CompanyRegistered)
            {
                known.Committed(stream.Key, null);
            }
            else if (whole is not null && whole.Deals.TryGetValue(stream.Key, out var decided))
            {
                known.Committed(stream.Key, new KnownDeal(fresh[^1].Version, [.. decided.Stored.History, .. fresh.Select(e => e.ToRecordedEntry())]));
            }
            else
            {
                known.Outdated(stream.Key);
            }
        }
    }

    /// <summary>Now, as PostgreSQL keeps it (microseconds), so that the instant answered is the instant stored.</summary>
    private DateTimeOffset RecordedAt()
    {
        var now = clock.GetCurrentInstant();
        return now.Minus(Duration.FromTicks(now.ToUnixTimeTicks() % 10)).ToDateTimeOffset();
    }

    /// <summary>Queues the slice's accepted entries, one stream action per stream in request order, at the recorded time.</summary>
    private static void Append(IDocumentSession session, IReadOnlyList<PendingEntry> entries, Decision decision, Slice slice, DateTimeOffset recordedAt, Dictionary<int, IEvent> appended)
    {
        foreach (var group in slice.Indices
                     .Where(i => !decision.Replayed.ContainsKey(i) && !decision.IsRefused(i))
                     .GroupBy(i => StreamKeyOf(entries[i])))
        {
            var events = group.Select(i => (object)entries[i].Event).ToArray();
            var isNew = entries[group.First()].DealId is not { } dealId || slice.Deals[dealId].Stored.Version == 0;
            var action = isNew
                ? session.Events.StartStream(group.Key, events)
                : session.Events.Append(group.Key, slice.Deals[entries[group.First()].DealId!].Stored.Version + events.Length, events);
            foreach (var (index, e) in group.Zip(action.Events))
            {
                e.Timestamp = recordedAt;
                // Time-ordered rather than Marten's random ids: the postings' indexes that lead with the event id then
                // grow at their right edge, instead of every command changing a random page of them. On the
                // 1,000,000-event store that cut the WAL written per command by three quarters (docs/benchmarks.md).
                e.Id = Guid.CreateVersion7(recordedAt);
                appended[index] = e;
                if (entries[index].Idempotency is { } claim)
                {
                    session.Insert(new IdempotencyRecord(claim.Key, claim.RequestHash, e.Id));
                }
            }
        }
    }

    private static string StreamKeyOf(PendingEntry entry) => entry.Event is CompanyRegistered c
        ? CompanyProfile.StreamKeyOf(c.CompanyId)
        : entry.DealId!;

    /// <summary>The acknowledgement of every entry recorded or replayed, by index, in request order.</summary>
    private static async Task<SortedDictionary<int, Acknowledgement>> AcknowledgeAsync(
        IDocumentSession session, IReadOnlyList<PendingEntry> entries, Decision decision, Dictionary<int, IEvent> appended, CancellationToken ct)
    {
        var acknowledgements = new SortedDictionary<int, Acknowledgement>();
        foreach (var index in Enumerable.Range(0, entries.Count).Where(i => !decision.IsRefused(i)))
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
