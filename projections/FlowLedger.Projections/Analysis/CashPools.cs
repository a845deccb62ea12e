namespace FlowLedger.Projections.Analysis;

/// <summary>An amount of cash that is wholly the traced money or wholly not.</summary>
internal readonly record struct Lot(decimal Amount, bool IsTagged)
{
    public static decimal TaggedIn(ReadOnlySpan<Lot> lots)
    {
        var tagged = 0m;
        foreach (var lot in lots)
        {
            if (lot.IsTagged)
            {
                tagged += lot.Amount;
            }
        }
        return tagged;
    }
}

/// <summary>
/// The cash a company holds during a trace. Every amount a payment takes from it is given to the payee
/// unchanged, which is what keeps a trace's conservation exact.
/// </summary>
internal abstract class CashPool
{
    /// <summary>The traced money in the pool.</summary>
    public abstract decimal Tagged { get; }

    /// <summary>
    /// Takes a payment out of the pool and adds the lots it took to <paramref name="taken"/>, in the order taken.
    /// Beyond what the pool holds, the excess is untagged (money the ledger never saw) and the pool is left
    /// empty, never below zero.
    /// </summary>
    public abstract void Pay(decimal amount, List<Lot> taken);

    public abstract void Receive(ReadOnlySpan<Lot> lots);

    public static CashPool For(TracePolicy policy) => policy switch
    {
        TracePolicy.Proportional => new ProportionalPool(),
        TracePolicy.Fifo => new LotQueue(newestFirst: false),
        TracePolicy.Lifo => new LotQueue(newestFirst: true),
        _ => throw new ArgumentOutOfRangeException(nameof(policy), policy, "Unknown trace policy."),
    };
}

/// <summary>A pool where every payment carries the tagged share of the pool: a × tagged / pool.</summary>
internal sealed class ProportionalPool : CashPool
{
    /// <summary>
    /// A share a × tagged / pool rarely divides evenly. Rounding it to a fixed number of places keeps every
    /// tagged amount short enough that adding and subtracting them stays exact in <see cref="decimal"/>
    /// (28 significant digits leave room for totals up to 10^16), so nothing is lost between payer and payee.
    /// </summary>
    private const int ShareDecimals = 12;

    private decimal _total;
    private decimal _tagged;

    public override decimal Tagged => _tagged;

    public override void Pay(decimal amount, List<Lot> taken)
    {
        var tagged = TaggedShareOf(amount);
        _total = Math.Max(0m, _total - amount);
        _tagged -= tagged;
        var untagged = amount - tagged;
        if (tagged != 0)
        {
            taken.Add(new Lot(tagged, IsTagged: true));
        }
        if (tagged == 0 || untagged != 0)
        {
            taken.Add(new Lot(untagged, IsTagged: false));
        }
    }

    public override void Receive(ReadOnlySpan<Lot> lots)
    {
        var received = 0m;
        foreach (var lot in lots)
        {
            received += lot.Amount;
        }
        _total += received;
        _tagged += Lot.TaggedIn(lots);
    }

    private decimal TaggedShareOf(decimal amount)
    {
        if (amount >= _total)
        {
            return _tagged;
        }
        // Most pools hold none of the traced money; the share of nothing is nothing, without a division.
        if (_tagged == 0)
        {
            return 0m;
        }
        // Dividing first keeps the product within range. The rounded share is then held to what the pool can
        // give: no more than its tagged money, and no less than the payment's excess over its untagged money,
        // so neither part of the pool ever goes below zero.
        var share = Math.Round(_tagged / _total * amount, ShareDecimals);
        var untaggedInPool = _total - _tagged;
        return Math.Clamp(share, Math.Max(0m, amount - untaggedInPool), Math.Min(amount, _tagged));
    }
}

/// <summary>
/// A pool kept as lots in arrival order; payments take the oldest lots first (fifo) or the newest
/// (lifo). The lots a payment takes arrive at the payee in the order they were taken.
/// </summary>
internal sealed class LotQueue(bool newestFirst) : CashPool
{
    // Neighbouring lots of the same kind are merged: which of them goes first cannot change what is tagged,
    // and merging keeps the queue short (it alternates tagged and untagged lots).
    private readonly LinkedList<Lot> _lots = new();
    private decimal _tagged;

    public override decimal Tagged => _tagged;

    public override void Pay(decimal amount, List<Lot> taken)
    {
        var due = amount;
        while (due > 0 && (newestFirst ? _lots.Last : _lots.First) is { } next)
        {
            var lot = next.Value;
            var part = Math.Min(due, lot.Amount);
            taken.Add(lot with { Amount = part });
            if (part == lot.Amount)
            {
                _lots.Remove(next);
            }
            else
            {
                next.Value = lot with { Amount = lot.Amount - part };
            }
            _tagged -= lot.IsTagged ? part : 0m;
            due -= part;
        }
        if (due > 0)
        {
            taken.Add(new Lot(due, IsTagged: false));
        }
    }

    public override void Receive(ReadOnlySpan<Lot> lots)
    {
        foreach (var lot in lots)
        {
            if (_lots.Last is { } newest && newest.Value.IsTagged == lot.IsTagged)
            {
                newest.Value = lot with { Amount = newest.Value.Amount + lot.Amount };
            }
            else
            {
                _lots.AddLast(lot);
            }
            _tagged += lot.IsTagged ? lot.Amount : 0m;
        }
    }
}
