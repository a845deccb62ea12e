using System.Runtime.InteropServices;
using FlowLedger.Domain;
using NodaTime;

namespace FlowLedger.Projections.Analysis;

/// <summary>Which part of a payment is the traced money (SPEC §6).</summary>
public enum TracePolicy
{
    /// <summary>The "haircut" rule: every payment carries the payer's tagged share of its pool.</summary>
    Proportional,

    /// <summary>Clayton's case: the oldest money goes out first.</summary>
    Fifo,

    /// <summary>The newest money goes out first.</summary>
    Lifo,
}

/// <summary>
/// Where the traced money went: back to the source, out of the ledger, still held by companies, and
/// what travelled along each edge. <c>Traced = ReturnedToSource + LeftLedger + Σ Holders</c> exactly.
/// </summary>
public sealed record TraceResult(
    string Source, TracePolicy Policy, string Currency,
    decimal Traced, decimal ReturnedToSource, decimal LeftLedger,
    IReadOnlyList<TraceHolder> Holders, IReadOnlyList<TraceFlow> Flows);

public sealed record TraceHolder(string CompanyId, decimal Amount);

public sealed record TraceFlow(string From, string To, decimal Amount);

/// <summary>Follows a company's cash outflows through every later payment (SPEC §6).</summary>
public static class Trace
{
    /// <summary>
    /// Traces the outflows of <paramref name="source"/> in <paramref name="currency"/>: all of them, or only
    /// those of <paramref name="dealId"/> and those effective on or after <paramref name="from"/> when given.
    /// Later payments are followed whatever their deal or date.
    /// </summary>
    /// <param name="movements">Cash movements in the order of SPEC §2.</param>
    public static TraceResult Run(
        string source, IEnumerable<Movement> movements, TracePolicy policy = TracePolicy.Proportional,
        string currency = "USD", string? dealId = null, LocalDate? from = null)
    {
        // The source keeps no pool: the traced money that comes back to it leaves the trace, so whatever it
        // holds is untagged, and what it pays out is wholly tagged (an outflow in scope) or wholly not.
        var pools = new Dictionary<string, CashPool>(StringComparer.Ordinal);
        var flows = new FlowTally();
        decimal traced = 0m, returned = 0m, leftLedger = 0m;

        foreach (var movement in movements.Where(m => m.Currency == currency))
        {
            IReadOnlyList<Lot> paid;
            if (movement.From == source)
            {
                var inScope = (dealId is null || movement.DealId == dealId) && (from is null || movement.EffectiveOn >= from);
                paid = [new Lot(movement.Amount, IsTagged: inScope)];
                traced += inScope ? movement.Amount : 0m;
            }
            else if (movement.From == Parties.External)
            {
                paid = [new Lot(movement.Amount, IsTagged: false)];
            }
            else
            {
                paid = PoolOf(movement.From).Pay(movement.Amount);
            }

            var tagged = Lot.TaggedIn(paid);
            flows.Add(movement.From, movement.To, tagged);
            if (movement.To == source)
            {
                returned += tagged;
            }
            else if (movement.To == Parties.External)
            {
                leftLedger += tagged;
            }
            else
            {
                PoolOf(movement.To).Receive(paid);
            }
        }

        var holders = pools
            .Where(pool => pool.Value.Tagged > 0)
            .OrderBy(pool => pool.Key, StringComparer.Ordinal)
            .Select(pool => new TraceHolder(pool.Key, Normalized(pool.Value.Tagged)))
            .ToList();
        return new TraceResult(source, policy, currency, Normalized(traced), Normalized(returned), Normalized(leftLedger), holders, flows.InFirstOccurrenceOrder());
        CashPool PoolOf(string company) =>
            pools.TryGetValue(company, out var pool) ? pool : pools[company] = CashPool.For(policy);
    }

    /// <summary>Rounded shares carry trailing zeros (2.000000000000); the answer shows the number, 2.</summary>
    private static decimal Normalized(decimal value) => value / 1.0000000000000000000000000000m;

    /// <summary>Tagged money per edge, edges in the order they first carried some.</summary>
    private sealed class FlowTally
    {
        private readonly Dictionary<(string From, string To), decimal> _amounts = new();
        private readonly List<(string From, string To)> _firstCarried = [];

        public void Add(string from, string to, decimal tagged)
        {
            if (tagged == 0)
            {
                return;
            }
            // One lookup per payment: a trace can carry tagged money along most of a million payments.
            ref var amount = ref CollectionsMarshal.GetValueRefOrAddDefault(_amounts, (from, to), out var carriedBefore);
            if (!carriedBefore)
            {
                _firstCarried.Add((from, to));
            }
            amount += tagged;
        }

        public IReadOnlyList<TraceFlow> InFirstOccurrenceOrder() =>
            _firstCarried.Select(edge => new TraceFlow(edge.From, edge.To, Normalized(_amounts[edge]))).ToList();
    }
}
