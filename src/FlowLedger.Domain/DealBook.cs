using NodaTime;

namespace FlowLedger.Domain;

/// <summary>
/// The accounting of one deal, folded event by event in the order of SPEC §2. It turns each event
/// into its postings (SPEC §4), keeps what later events depend on (outstanding commitments, warrant
/// lots, loans), and reports every rule an event would break. It is pure: the same entries in the
/// same order give the same postings, on the write side and in every projection.
/// </summary>
public sealed class DealBook
{
    private readonly Dictionary<Flow, CommitmentLine> _commitments = new();
    private readonly Dictionary<Flow, Announcement> _announcements = new();
    private readonly Dictionary<Flow, decimal> _funded = new();
    private readonly Dictionary<(string Issuer, string Holder), List<WarrantLot>> _warrants = new();
    private readonly Dictionary<Flow, LoanLine> _loans = new();
    private readonly List<Purchase> _purchases = new();
    private readonly SortedSet<string> _parties = new(StringComparer.Ordinal);

    public IReadOnlyCollection<string> Parties => _parties;
    public IEnumerable<CommitmentLine> Commitments => _commitments.Values;
    public IEnumerable<Announcement> Announcements => _announcements.Values;
    public IEnumerable<LoanLine> Loans => _loans.Values;
    public IReadOnlyList<Purchase> Purchases => _purchases;
    public LocalDate? CancelledOn { get; private set; }

    public IEnumerable<WarrantPosition> Warrants => _warrants.Select(w => new WarrantPosition(
        w.Key.Issuer, w.Key.Holder,
        Issued: w.Value.Sum(l => l.Issued),
        Unvested: w.Value.Sum(l => l.Unvested),
        Vested: w.Value.Sum(l => l.ExercisableShares),
        Exercised: w.Value.Sum(l => l.Exercised)));

    public static DealBook Fold(IEnumerable<RecordedEntry> orderedEntries)
    {
        var book = new DealBook();
        foreach (var entry in orderedEntries)
        {
            book.Apply((IDealEvent)entry.Event);
        }
        return book;
    }

    /// <summary>Applies one event and returns its postings and the rules it broke (none when valid).</summary>
    public DealStep Apply(IDealEvent e)
    {
        var step = new DealStep();
        switch (e)
        {
            case InvestmentAnnounced a:
                Note(a.Investor, a.Investee);
                Commit(step, a.Investor, a.Investee, a.UpTo);
                var announcement = AnnouncementFor(new Flow(a.Investor, a.Investee, a.UpTo.Currency));
                announcement.UpTo += a.UpTo.Amount;
                announcement.Instrument = a.Instrument;
                CheckFundedWithinAnnounced(step, a.Investor, a.Investee);
                break;

            case InvestmentFunded f:
                Note(f.Investor, f.Investee);
                var flow = new Flow(f.Investor, f.Investee, f.Amount.Currency);
                _funded[flow] = FundedOn(flow) + f.Amount.Amount;
                if (!CheckFundedWithinAnnounced(step, f.Investor, f.Investee))
                {
                    break;
                }
                Pay(step, f.Investor, f.Investee, f.Amount);
                if (f.Shares is { } shares)
                {
                    step.Add(new Posting(Layer.Holding, Assets.Shares(f.Investee), f.Investee, f.Investor, shares));
                }
                break;

            case WarrantsIssued w:
                Note(w.Issuer, w.Holder);
                LotsOf(w.Issuer, w.Holder).Add(new WarrantLot(w.Shares, w.StrikePrice));
                step.Add(new Posting(Layer.Holding, Assets.UnvestedWarrants(w.Issuer), w.Issuer, w.Holder, w.Shares));
                break;

            case WarrantsVested v:
                Note(v.Issuer, v.Holder);
                Vest(step, v);
                break;

            case WarrantsExercised x:
                Note(x.Issuer, x.Holder);
                Exercise(step, x);
                break;

            case PurchaseCommitted p:
                Note(p.Buyer, p.Seller);
                if (p.Amount is { } amount)
                {
                    Commit(step, p.Buyer, p.Seller, amount);
                }
                if (p.Capacity is { } capacity)
                {
                    step.Add(new Posting(Layer.Holding, Assets.Capacity(capacity.Unit), p.Seller, p.Buyer, capacity.Value));
                }
                _purchases.Add(new Purchase("commitment", p.Buyer, p.Seller, p.Amount, p.Capacity, null, null, p.EffectiveOn));
                break;

            case ChipsPurchased c:
                Note(c.Buyer, c.Vendor);
                Pay(step, c.Buyer, c.Vendor, c.TotalPrice());
                step.Add(new Posting(Layer.Holding, Assets.Chips(c.ChipModel), c.Vendor, c.Buyer, c.Units));
                _purchases.Add(new Purchase("chips", c.Buyer, c.Vendor, c.TotalPrice(), null, c.ChipModel, c.Units, c.EffectiveOn));
                break;

            case ServicesPaid s:
                Note(s.Payer, s.Payee);
                Pay(step, s.Payer, s.Payee, s.Amount);
                _purchases.Add(new Purchase("services", s.Payer, s.Payee, s.Amount, null, null, null, s.EffectiveOn));
                break;

            case LoanDrawn d:
                Note(d.Lender, d.Borrower);
                Pay(step, d.Lender, d.Borrower, d.Amount);
                step.Add(new Posting(Layer.Holding, Assets.Loan(d.Amount.Currency), d.Borrower, d.Lender, d.Amount.Amount));
                LoanFor(new Flow(d.Lender, d.Borrower, d.Amount.Currency)).Drawn += d.Amount.Amount;
                break;

            case LoanRepaid r:
                Note(r.Lender, r.Borrower);
                Repay(step, r);
                break;

            case RevenueRecognized rev:
                Note(rev.Company);
                step.Add(new Posting(Layer.Cash, Assets.Cash(rev.Amount.Currency), Domain.Parties.External, rev.Company, rev.Amount.Amount));
                break;

            case ExpenseIncurred exp:
                Note(exp.Company);
                step.Add(new Posting(Layer.Cash, Assets.Cash(exp.Amount.Currency), exp.Company, Domain.Parties.External, exp.Amount.Amount));
                break;

            case CommitmentCancelled cancelled:
                foreach (var line in _commitments.Values.Where(l => l.Outstanding > 0))
                {
                    step.Add(new Posting(Layer.Commitment, Assets.Promise(line.Flow.From, line.Flow.Currency), line.Flow.To, line.Flow.From, line.Outstanding));
                    line.Released += line.Outstanding;
                }
                CancelledOn ??= cancelled.EffectiveOn;
                break;

            case EntryReversed:
                // A reversal is never folded: visibility (PointInTime.Visible) removes it and its target.
                throw new InvalidOperationException("Reversals are resolved before folding a deal.");

            default:
                throw new InvalidOperationException($"No accounting rule for {e.GetType().Name}.");
        }
        return step;
    }

    private void Note(params string[] parties)
    {
        foreach (var party in parties)
        {
            _parties.Add(party);
        }
    }

    private void Commit(DealStep step, string from, string to, Money amount)
    {
        step.Add(new Posting(Layer.Commitment, Assets.Promise(from, amount.Currency), from, to, amount.Amount));
        CommitmentFor(new Flow(from, to, amount.Currency)).Committed += amount.Amount;
    }

    /// <summary>A cash payment inside a deal first settles that deal's outstanding commitment in the same direction.</summary>
    private void Pay(DealStep step, string from, string to, Money amount)
    {
        step.Add(new Posting(Layer.Cash, Assets.Cash(amount.Currency), from, to, amount.Amount));
        if (_commitments.TryGetValue(new Flow(from, to, amount.Currency), out var line) && line.Outstanding > 0)
        {
            var release = Math.Min(line.Outstanding, amount.Amount);
            line.Released += release;
            step.Add(new Posting(Layer.Commitment, Assets.Promise(from, amount.Currency), to, from, release));
        }
    }

    /// <summary>
    /// Once an investor has announced an investment in this deal, everything it funds the investee
    /// here, before or after the announcement, must stay within what it announced, currency by currency.
    /// </summary>
    private bool CheckFundedWithinAnnounced(DealStep step, string investor, string investee)
    {
        var announced = _announcements.Values.Where(a => a.Flow.From == investor && a.Flow.To == investee).ToList();
        if (announced.Count == 0)
        {
            return true;
        }
        var beyond = _funded
            .Where(f => f.Key.From == investor && f.Key.To == investee)
            .Select(f => (Funded: f.Value, f.Key.Currency, UpTo: announced.FirstOrDefault(a => a.Flow.Currency == f.Key.Currency)?.UpTo ?? 0m))
            .Where(f => f.Funded > f.UpTo)
            .ToList();
        foreach (var (funded, currency, upTo) in beyond)
        {
            step.Break(
                $"'{investor}' would have funded '{investee}' {funded} {currency} in this deal, " +
                $"beyond the {upTo} {currency} announced between them.");
        }
        return beyond.Count == 0;
    }

    /// <summary>What the investor has funded the investee in this deal so far, in one currency.</summary>
    public decimal FundedOn(Flow flow) => _funded.GetValueOrDefault(flow);

    private void Vest(DealStep step, WarrantsVested v)
    {
        var lots = LotsOf(v.Issuer, v.Holder);
        var unvested = lots.Sum(l => l.Unvested);
        if (v.Shares > unvested)
        {
            step.Break($"Cannot vest {v.Shares} warrants of '{v.Issuer}' held by '{v.Holder}': only {unvested} are unvested.");
            return;
        }
        var remaining = v.Shares;
        foreach (var lot in lots.Where(l => l.Unvested > 0))
        {
            var take = Math.Min(remaining, lot.Unvested);
            lot.Vested += take;
            remaining -= take;
            if (remaining == 0)
            {
                break;
            }
        }
        step.Add(new Posting(Layer.Holding, Assets.UnvestedWarrants(v.Issuer), v.Holder, v.Issuer, v.Shares));
        step.Add(new Posting(Layer.Holding, Assets.VestedWarrants(v.Issuer), v.Issuer, v.Holder, v.Shares));
    }

    private void Exercise(DealStep step, WarrantsExercised x)
    {
        var lots = LotsOf(x.Issuer, x.Holder);
        var vested = lots.Sum(l => l.ExercisableShares);
        if (x.Shares > vested)
        {
            step.Break($"Cannot exercise {x.Shares} warrants of '{x.Issuer}' held by '{x.Holder}': only {vested} are vested.");
            return;
        }
        var remaining = x.Shares;
        var strikeCash = new Dictionary<string, decimal>();
        foreach (var lot in lots.Where(l => l.ExercisableShares > 0))
        {
            var take = Math.Min(remaining, lot.ExercisableShares);
            lot.Exercised += take;
            strikeCash[lot.Strike.Currency] = strikeCash.GetValueOrDefault(lot.Strike.Currency) + take * lot.Strike.Amount;
            remaining -= take;
            if (remaining == 0)
            {
                break;
            }
        }
        step.Add(new Posting(Layer.Holding, Assets.VestedWarrants(x.Issuer), x.Holder, x.Issuer, x.Shares));
        step.Add(new Posting(Layer.Holding, Assets.Shares(x.Issuer), x.Issuer, x.Holder, x.Shares));
        foreach (var (currency, amount) in strikeCash.Where(c => c.Value > 0))
        {
            Pay(step, x.Holder, x.Issuer, new Money(amount, currency));
        }
    }

    private void Repay(DealStep step, LoanRepaid r)
    {
        var loan = LoanFor(new Flow(r.Lender, r.Borrower, r.Amount.Currency));
        if (r.Amount.Amount > loan.Outstanding)
        {
            step.Break($"Cannot repay {r.Amount} to '{r.Lender}': '{r.Borrower}' owes only {loan.Outstanding} {r.Amount.Currency} in this deal.");
            return;
        }
        loan.Repaid += r.Amount.Amount;
        Pay(step, r.Borrower, r.Lender, r.Amount);
        step.Add(new Posting(Layer.Holding, Assets.Loan(r.Amount.Currency), r.Lender, r.Borrower, r.Amount.Amount));
    }

    private CommitmentLine CommitmentFor(Flow flow) =>
        _commitments.TryGetValue(flow, out var line) ? line : _commitments[flow] = new CommitmentLine(flow);

    private Announcement AnnouncementFor(Flow flow) =>
        _announcements.TryGetValue(flow, out var a) ? a : _announcements[flow] = new Announcement(flow);

    private LoanLine LoanFor(Flow flow) =>
        _loans.TryGetValue(flow, out var loan) ? loan : _loans[flow] = new LoanLine(flow);

    private List<WarrantLot> LotsOf(string issuer, string holder) =>
        _warrants.TryGetValue((issuer, holder), out var lots) ? lots : _warrants[(issuer, holder)] = new List<WarrantLot>();

    private sealed class WarrantLot(long issued, Money strike)
    {
        public long Issued { get; } = issued;
        public Money Strike { get; } = strike;
        public long Vested { get; set; }
        public long Exercised { get; set; }
        public long Unvested => Issued - Vested;
        public long ExercisableShares => Vested - Exercised;
    }
}

/// <summary>A directed money relation inside a deal, in one currency.</summary>
public readonly record struct Flow(string From, string To, string Currency);

public sealed class CommitmentLine(Flow flow)
{
    public Flow Flow { get; } = flow;
    public decimal Committed { get; internal set; }
    public decimal Released { get; internal set; }
    public decimal Outstanding => Math.Max(0m, Committed - Released);
}

public sealed class Announcement(Flow flow)
{
    public Flow Flow { get; } = flow;
    public Instrument Instrument { get; internal set; }
    public decimal UpTo { get; internal set; }
}

public sealed class LoanLine(Flow flow)
{
    public Flow Flow { get; } = flow;
    public decimal Drawn { get; internal set; }
    public decimal Repaid { get; internal set; }
    public decimal Outstanding => Drawn - Repaid;
}

public sealed record WarrantPosition(string Issuer, string Holder, long Issued, long Unvested, long Vested, long Exercised);

public sealed record Purchase(
    string Kind, string Buyer, string Seller, Money? Amount, Capacity? Capacity, string? ChipModel, long? Units, LocalDate EffectiveOn);

/// <summary>What one event did to a deal: its postings, or the rules it broke.</summary>
public sealed class DealStep
{
    private readonly List<Posting> _postings = new();
    private readonly List<string> _violations = new();

    public IReadOnlyList<Posting> Postings => _postings;
    public IReadOnlyList<string> Violations => _violations;

    internal void Add(Posting posting) => _postings.Add(posting);

    internal void Break(string rule) => _violations.Add(rule);
}
