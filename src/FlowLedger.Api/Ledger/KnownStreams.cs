using System.Collections.Concurrent;
using FlowLedger.Domain;
using FlowLedger.Projections;
using FlowLedger.Projections.Balances;
using Microsoft.Extensions.Caching.Memory;
using Npgsql;

namespace FlowLedger.Api.Ledger;

/// <summary>A deal's stream as far as it is known: its version and its events in version order.</summary>
public sealed record KnownDeal(long Version, IReadOnlyList<RecordedEntry> History)
{
    public static readonly KnownDeal New = new(0, []);
}

/// <summary>
/// What this node's writers have learned of the store, so that a command can be decided without reading first: which
/// streams exist (a company is registered when its stream does) and the histories of the deals written or read
/// lately. That spares a round trip per transaction, and the postings projection a second read of each deal written.
/// <para>
/// Everything here may be stale — another node, or a commit whose answer was lost, can have written since — so the
/// recorder treats it as a guess that the write itself checks: a known deal is appended at the version it was decided
/// on, and a stream not known to exist is started, so a stale guess fails the transaction with a write conflict and
/// the recorder decides again from a fresh read. A refusal is never decided on a guess.
/// </para>
/// </summary>
public sealed class KnownStreams : IKnownHistories, IDisposable
{
    /// <summary>
    /// Events of deal histories kept at most; the deals least recently used go first. Through a 1,000,000-event import
    /// the app's peak RSS was the same with 50,000 (docs/benchmarks.md), and the import slower. Every stream's key is
    /// kept too, about 100 bytes each.
    /// </summary>
    public const long HistoryEventsKept = 200_000;

    private readonly MemoryCache _deals = new(new MemoryCacheOptions { SizeLimit = HistoryEventsKept });
    private readonly ConcurrentDictionary<string, byte> _existing = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _loading = new(1, 1);
    private volatile bool _loaded;

    /// <summary>
    /// What the entries need to be decided, without reading: null when a deal they write to exists but its history is
    /// not kept, so it must be read. A stream not known to exist is taken as new; no idempotency key as used before.
    /// </summary>
    public async Task<DecisionBasis?> RecallAsync(NpgsqlConnection connection, IReadOnlyList<PendingEntry> entries, CancellationToken ct)
    {
        await LoadExistingAsync(connection, ct);
        var deals = new Dictionary<string, KnownDeal>(StringComparer.Ordinal);
        foreach (var dealId in DecisionBasis.DealsOf(entries))
        {
            if (_deals.TryGetValue(dealId, out KnownDeal? known))
            {
                deals[dealId] = known!;
            }
            else if (_existing.ContainsKey(dealId))
            {
                return null;
            }
            else
            {
                deals[dealId] = KnownDeal.New;
            }
        }
        var companies = DecisionBasis.CompaniesNamedBy(entries)
            .Where(company => _existing.ContainsKey(CompanyProfile.StreamKeyOf(company)))
            .ToHashSet(StringComparer.Ordinal);
        return new DecisionBasis(new Dictionary<string, IdempotencyRecord>(StringComparer.Ordinal), companies, deals);
    }

    public IEnumerable<RecordedEntry>? Before(string dealId, long version) =>
        _deals.TryGetValue(dealId, out KnownDeal? known) && known!.Version >= version - 1
            ? known.History.Take((int)(version - 1))
            : null;

    /// <summary>Keeps what a read found: it is what the store held then.</summary>
    public void Learn(DecisionBasis read)
    {
        foreach (var company in read.Companies)
        {
            _existing.TryAdd(CompanyProfile.StreamKeyOf(company), 0);
        }
        foreach (var (dealId, deal) in read.Deals.Where(d => d.Value.Version > 0))
        {
            Remember(dealId, deal);
        }
    }

    /// <summary>Keeps a stream that was just committed to: a deal with its whole history, a company's stream by key.</summary>
    public void Committed(string streamKey, KnownDeal? deal)
    {
        if (deal is null)
        {
            _existing.TryAdd(streamKey, 0);
            return;
        }
        Remember(streamKey, deal);
    }

    /// <summary>A deal a write appended to without keeping its history: it exists, and its history is read when next needed.</summary>
    public void Outdated(string dealId)
    {
        _existing.TryAdd(dealId, 0);
        _deals.Remove(dealId);
    }

    private void Remember(string dealId, KnownDeal deal)
    {
        _existing.TryAdd(dealId, 0);
        // Two writers of this node can finish in either order: a history never replaces a longer one.
        if (!_deals.TryGetValue(dealId, out KnownDeal? kept) || kept!.Version < deal.Version)
        {
            _deals.Set(dealId, deal, new MemoryCacheEntryOptions { Size = Math.Max(1, deal.History.Count) });
        }
    }

    /// <summary>Every stream key in the store, once: from then on what this node commits or reads keeps it current.</summary>
    private async Task LoadExistingAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        if (_loaded)
        {
            return;
        }
        await _loading.WaitAsync(ct);
        try
        {
            if (!_loaded)
            {
                await using var command = new NpgsqlCommand($"select id from {LedgerStore.Schema}.mt_streams", connection);
                await using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    _existing.TryAdd(reader.GetString(0), 0);
                }
                _loaded = true;
            }
        }
        finally
        {
            _loading.Release();
        }
    }

    public void Dispose()
    {
        _deals.Dispose();
        _loading.Dispose();
    }
}

/// <summary>What deciding a request needs to know of the store: used keys, registered companies, and the deals' streams.</summary>
public sealed record DecisionBasis(
    Dictionary<string, IdempotencyRecord> Claims, HashSet<string> Companies, Dictionary<string, KnownDeal> Deals)
{
    /// <summary>The deals the entries write to; an id that is not a slug is refused before any deal is looked at.</summary>
    public static IEnumerable<string> DealsOf(IReadOnlyList<PendingEntry> entries) => entries
        .Where(e => e.Event is not CompanyRegistered && EventRules.IsSlug(e.DealId))
        .Select(e => e.DealId!)
        .Distinct(StringComparer.Ordinal);

    public static IEnumerable<string> CompaniesNamedBy(IReadOnlyList<PendingEntry> entries) =>
        entries.SelectMany(e => EventRules.PartiesOf(e.Event)).Distinct(StringComparer.Ordinal);
}
