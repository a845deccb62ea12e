using System.Runtime.InteropServices;
using FlowLedger.Domain;
using FlowLedger.Projections.Balances;
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
        var trace = Start(source, policy, currency, dealId, from);
        foreach (var movement in movements)
        {
            trace.Follow(movement);
        }
        return trace.Result();
    }

    /// <summary>A trace as <see cref="Run"/> makes it, fed one movement at a time (in the order of SPEC §2) as they are read.</summary>
    public static TraceRun Start(
        string source, TracePolicy policy = TracePolicy.Proportional, string currency = "USD", string? dealId = null, LocalDate? from = null) =>
        new(source, policy, currency, dealId, from);

    /// <summary>A trace under way: the pools and tallies so far.</summary>
    public sealed class TraceRun
    {
        private readonly string _source;
        private readonly TracePolicy _policy;
        private readonly string _currency;
        private readonly string? _dealId;
        private readonly LocalDate? _from;
        // One look-up per party of a payment; the payment's pools and its edge in the tally then hang off the parties.
        private readonly Dictionary<string, Party> _parties = new(StringComparer.Ordinal);
        private readonly FlowTally _flows = new();
        private readonly List<Lot> _paid = [];
        private decimal _traced, _returned, _leftLedger;

        internal TraceRun(string source, TracePolicy policy, string currency, string? dealId, LocalDate? from)
        {
            _source = source;
            _policy = policy;
            _currency = currency;
            _dealId = dealId;
            _from = from;
        }

        /// <summary>Follows the next movement; those in other currencies pass by.</summary>
        public void Follow(Movement movement)
        {
            if (movement.Currency == _currency)
            {
                Follow(movement.From, movement.To, movement.Amount, movement.EffectiveOn, movement.DealId);
            }
        }

        /// <summary>Follows the next cash posting as read from the postings projection, without making a <see cref="Movement"/> of it.</summary>
        public void Follow(in LayerPosting cash)
        {
            if (Assets.CurrencyOf(cash.Asset) == _currency)
            {
                Follow(cash.From, cash.To, cash.Quantity, cash.EffectiveOn, cash.DealId);
            }
        }

        private void Follow(string from, string to, decimal amount, LocalDate effectiveOn, string? dealId)
        {
            var payer = PartyOf(from);
            var payee = PartyOf(to);
            // One list for every payment: a trace follows up to a million of them, and each would otherwise allocate its own.
            var paid = _paid;
            paid.Clear();
            switch (payer.Role)
            {
                case PartyRole.Source:
                    var inScope = (_dealId is null || dealId == _dealId) && (_from is null || effectiveOn >= _from);
                    paid.Add(new Lot(amount, IsTagged: inScope));
                    _traced += inScope ? amount : 0m;
                    break;
                case PartyRole.External:
                    paid.Add(new Lot(amount, IsTagged: false));
                    break;
                default:
                    payer.Pool!.Pay(amount, paid);
                    break;
            }

            var lots = CollectionsMarshal.AsSpan(paid);
            var tagged = Lot.TaggedIn(lots);
            _flows.Add(payer, payee, tagged);
            switch (payee.Role)
            {
                case PartyRole.Source:
                    _returned += tagged;
                    break;
                case PartyRole.External:
                    _leftLedger += tagged;
                    break;
                default:
                    payee.Pool!.Receive(lots);
                    break;
            }
        }

        public TraceResult Result()
        {
            var holders = _parties.Values
                .Where(party => party.Pool is { Tagged: > 0 })
                .OrderBy(party => party.Name, StringComparer.Ordinal)
                .Select(party => new TraceHolder(party.Name, Normalized(party.Pool!.Tagged)))
                .ToList();
            return new TraceResult(_source, _policy, _currency, Normalized(_traced), Normalized(_returned), Normalized(_leftLedger),
                holders, _flows.InFirstOccurrenceOrder());
        }

        private Party PartyOf(string name)
        {
            if (_parties.TryGetValue(name, out var party))
            {
                return party;
            }
            // The source keeps no pool: the traced money that comes back to it leaves the trace, so whatever it
            // holds is untagged, and what it pays out is wholly tagged (an outflow in scope) or wholly not.
            party = name == _source ? new Party(name, PartyRole.Source, pool: null)
                : name == Parties.External ? new Party(name, PartyRole.External, pool: null)
                : new Party(name, PartyRole.Company, CashPool.For(_policy));
            _parties.Add(name, party);
            return party;
        }
    }

    private enum PartyRole
    {
        Company,
        Source,
        External,
    }

    /// <summary>
    /// A party as one trace knows it, made once per name, so the object stands for the name: the tally can key
    /// edges by it without hashing names again.
    /// </summary>
    private sealed class Party(string name, PartyRole role, CashPool? pool)
    {
        public string Name { get; } = name;

        public PartyRole Role { get; } = role;

        public CashPool? Pool { get; } = pool;

        /// <summary>Where each payee this party has paid traced money to sits in the tally.</summary>
        public Dictionary<Party, int> TallyIndexOfPayee { get; } = [];
    }

    /// <summary>Rounded shares carry trailing zeros (2.000000000000); the answer shows the number, 2.</summary>
    private static decimal Normalized(decimal value) => value / 1.0000000000000000000000000000m;

    /// <summary>Tagged money per edge, edges in the order they first carried some.</summary>
    private sealed class FlowTally
    {
        private readonly List<(Party From, Party To)> _firstCarried = [];
        private readonly List<decimal> _amounts = [];

        public void Add(Party from, Party to, decimal tagged)
        {
            if (tagged == 0)
            {
                return;
            }
            // One look-up per payment, by reference: a trace can carry tagged money along most of a million payments.
            ref var index = ref CollectionsMarshal.GetValueRefOrAddDefault(from.TallyIndexOfPayee, to, out var carriedBefore);
            if (!carriedBefore)
            {
                index = _firstCarried.Count;
                _firstCarried.Add((from, to));
                _amounts.Add(0m);
            }
            CollectionsMarshal.AsSpan(_amounts)[index] += tagged;
        }

        public IReadOnlyList<TraceFlow> InFirstOccurrenceOrder() =>
            _firstCarried.Select((edge, index) => new TraceFlow(edge.From.Name, edge.To.Name, Normalized(_amounts[index]))).ToList();
    }
}
