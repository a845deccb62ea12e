using System.Buffers;
using System.Text.Json;

namespace FlowLedger.Benchmarks;

/// <summary>What the generator wrote, besides the NDJSON file itself.</summary>
public sealed class GeneratedLedger
{
    public required string Path { get; init; }
    public required long[] LineOffsets { get; init; } // start of each line; one extra entry: the file's length
    public required int[] LineStream { get; init; }   // index into Streams
    public required byte[] LineType { get; init; }    // index into Generator.TypeNames
    public required Guid[] LineIds { get; init; }     // for the COPY baseline only; the server draws its own ids
    public required List<string> Streams { get; init; }
    public required List<string> Companies { get; init; }
    public required Dictionary<string, long> CountsByType { get; init; }
    public required int Deals { get; init; }
    public required int LargestDeal { get; init; }
    public required int Backdated { get; init; }
    public required int[] DealSizes { get; init; }
    /// <summary>Deals (by stream index) with the count of events a reversal may take back without breaking a later rule.</summary>
    public required Dictionary<int, int> ReversibleByDeal { get; init; }

    public int Lines => LineStream.Length;
}

/// <summary>
/// A deterministic synthetic ledger (SPEC §12): the same options give byte-identical NDJSON. It
/// registers the companies first, then interleaves deal events whose sizes and parties are skewed
/// (a few very busy deals and companies). It keeps each deal's state so that every line passes the
/// ledger's rules: fundings stay within what was announced, vests within unvested, exercises within
/// vested, repayments within what is owed; backdated events are only of kinds that cannot make a
/// later event of their deal break a rule.
/// </summary>
public static class Generator
{
    public static readonly string[] TypeNames =
    [
        "CompanyRegistered", "InvestmentAnnounced", "InvestmentFunded", "WarrantsIssued", "WarrantsVested",
        "WarrantsExercised", "PurchaseCommitted", "ChipsPurchased", "ServicesPaid", "LoanDrawn", "LoanRepaid",
        "RevenueRecognized", "ExpenseIncurred", "CommitmentCancelled",
    ];

    private enum T : byte
    {
        Registered, Announced, Funded, WIssued, WVested, WExercised, Committed, Chips, Services, Drawn, Repaid,
        Revenue, Expense, Cancelled,
    }

    private enum DealKind { VendorFinancing, CloudContract, EquityRound, Credit, Operations }

    private enum CoKind { ChipVendor, AiLab, Cloud, Investor, Bank, Other }

    private static readonly string[] CoKindNames = ["chip-vendor", "ai-lab", "cloud", "investor", "bank", "other"];
    private static readonly string[] ChipModels = ["H100", "H200", "B200", "GB200", "MI300X", "MI355X", "TPU-v6", "Trainium2"];
    private static readonly DateOnly Start = new(2023, 1, 1);
    public const int SpanDays = 1095; // 2023-01-01 .. 2025-12-30
    public static DateOnly FirstDay => Start;
    public static DateOnly LastDay => Start.AddDays(SpanDays);

    private sealed class Deal
    {
        public required int Index;
        public required string Id;
        public required DealKind Kind;
        public required string A;
        public required string B;
        public required string Currency;
        public required int Size;
        public required int StartDay;
        public required int Length;
        public int Emitted;
        public int MaxDay = -1;
        // The funding flow A → B.
        public decimal Cap, Funded;
        public int LastAnnounceDay = -1;
        public bool Announced;
        // Warrants: issuer → holder.
        public long Issued, Vested, Exercised;
        // Loans A → B.
        public decimal Drawn, Repaid;
        public bool HasCommitment;
        public int Reversible;
    }

    public static GeneratedLedger Write(string path, int events, int companies, int seed, double backdateShare = 0.05)
    {
        if (companies < 6)
        {
            throw new ArgumentException("At least 6 companies are needed (one of each kind).");
        }
        if (events <= companies)
        {
            throw new ArgumentException("--events counts every line, registrations included: it must exceed --companies.");
        }
        var rng = new Random(seed);
        var idRng = new Random(unchecked(seed * 7919 + 17));

        // Companies: the first six cover every kind, the rest are drawn.
        var kinds = new CoKind[companies];
        var names = new List<string>(companies);
        for (var i = 0; i < companies; i++)
        {
            names.Add($"co-{i + 1:D4}");
            kinds[i] = i < 6 ? (CoKind)i : PickKind(rng);
        }
        var pools = Enum.GetValues<CoKind>().ToDictionary(k => k, k => new ZipfPool(names.Where((_, i) => kinds[i] == k).ToList()));
        var everyone = new ZipfPool(names);

        // Deal sizes: a few to a few thousand events, heavy-tailed, until the events are used up.
        var dealEvents = events - companies;
        var maxDeal = Math.Max(10, Math.Min(5000, dealEvents / 10));
        var sizes = new List<int>();
        for (var remaining = dealEvents; remaining > 0;)
        {
            var size = Math.Min(remaining, DealSize(rng, maxDeal));
            sizes.Add(size);
            remaining -= size;
        }

        var deals = new List<Deal>(sizes.Count);
        for (var d = 0; d < sizes.Count; d++)
        {
            var kind = PickDealKind(rng);
            var (a, b) = kind switch
            {
                DealKind.VendorFinancing => (pools[CoKind.ChipVendor].Draw(rng), pools[CoKind.AiLab].Draw(rng)),
                DealKind.CloudContract => (pools[CoKind.Cloud].Draw(rng), pools[CoKind.AiLab].Draw(rng)),
                DealKind.EquityRound => (pools[CoKind.Investor].Draw(rng), rng.Next(4) == 0 ? pools[CoKind.Other].Draw(rng) : pools[CoKind.AiLab].Draw(rng)),
                DealKind.Credit => (pools[CoKind.Bank].Draw(rng), everyone.Draw(rng)),
                _ => (everyone.Draw(rng), everyone.Draw(rng)),
            };
            while (a == b)
            {
                b = everyone.Draw(rng);
            }
            var startDay = 1 + rng.Next(SpanDays - 31);
            var length = Math.Min(SpanDays - startDay, 30 + rng.Next(SpanDays));
            deals.Add(new Deal
            {
                Index = d, Id = $"deal-{d + 1:D6}", Kind = kind, A = a, B = b,
                Currency = rng.Next(10) == 0 ? "EUR" : "USD", Size = sizes[d], StartDay = startDay, Length = length,
            });
        }

        // Interleave: every deal's events spread over the whole file, in a shuffled order.
        var order = new int[dealEvents];
        for (int d = 0, k = 0; d < deals.Count; d++)
        {
            for (var j = 0; j < deals[d].Size; j++)
            {
                order[k++] = d;
            }
        }
        for (var i = order.Length - 1; i > 0; i--)
        {
            var j = rng.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }

        var streams = new List<string>(companies + deals.Count);
        streams.AddRange(names.Select(n => "company/" + n));
        streams.AddRange(deals.Select(d => d.Id));

        var offsets = new long[events + 1];
        var lineStream = new int[events];
        var lineType = new byte[events];
        var lineIds = new Guid[events];
        var counts = new Dictionary<string, long>();
        var backdated = 0;

        var buffer = new ArrayBufferWriter<byte>(1024);
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 20);
        using var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = false });
        long offset = 0;
        var line = 0;

        void Emit(int stream, T type)
        {
            json.Flush();
            buffer.Write("\n"u8);
            offsets[line] = offset;
            lineStream[line] = stream;
            lineType[line] = (byte)type;
            var id = new byte[16];
            idRng.NextBytes(id);
            id[7] = (byte)((id[7] & 0x0F) | 0x40);
            id[8] = (byte)((id[8] & 0x3F) | 0x80);
            lineIds[line] = new Guid(id);
            file.Write(buffer.WrittenSpan);
            offset += buffer.WrittenCount;
            buffer.ResetWrittenCount();
            json.Reset(buffer);
            counts[TypeNames[(int)type]] = counts.GetValueOrDefault(TypeNames[(int)type]) + 1;
            line++;
        }

        for (var i = 0; i < companies; i++)
        {
            json.WriteStartObject();
            json.WriteString("type", "CompanyRegistered");
            json.WriteString("companyId", names[i]);
            json.WriteString("name", $"Synthetic company {i + 1:D4}");
            json.WriteString("kind", CoKindNames[(int)kinds[i]]);
            if (rng.Next(3) == 0)
            {
                json.WriteString("ticker", $"S{i + 1:D4}");
            }
            if (rng.Next(5) < 2)
            {
                WriteMoney(json, "openingCash", Magnitude(rng, 7, 10), "USD");
            }
            json.WriteString("effectiveOn", Day(0));
            json.WriteString("source", $"synthetic, seed {seed}");
            json.WriteEndObject();
            Emit(i, T.Registered);
        }

        foreach (var d in order)
        {
            var deal = deals[d];
            var isLast = deal.Emitted == deal.Size - 1;
            var type = NextType(rng, deal, isLast);
            // Planned day of this event: the deal runs from StartDay over Length days.
            var planned = deal.StartDay + (int)((long)deal.Emitted * deal.Length / Math.Max(1, deal.Size)) + rng.Next(2);
            var day = Math.Max(planned, Math.Max(deal.MaxDay, deal.StartDay));
            if (deal.Emitted > 0 && rng.NextDouble() < backdateShare && CanBackdate(type))
            {
                var low = type == T.Funded ? Math.Max(deal.StartDay, deal.LastAnnounceDay) : deal.StartDay;
                if (deal.MaxDay > low)
                {
                    day = low + rng.Next(deal.MaxDay - low); // strictly before the latest day of the deal
                    backdated++;
                }
            }
            WriteDealEvent(json, rng, deal, type, day);
            deal.MaxDay = Math.Max(deal.MaxDay, day);
            deal.Emitted++;
            Emit(companies + d, type);
        }
        file.Flush();
        offsets[events] = offset;

        return new GeneratedLedger
        {
            Path = path, LineOffsets = offsets, LineStream = lineStream, LineType = lineType, LineIds = lineIds,
            Streams = streams, Companies = names, CountsByType = counts, Deals = deals.Count,
            LargestDeal = sizes.Max(), Backdated = backdated, DealSizes = sizes.ToArray(),
            ReversibleByDeal = deals.Where(x => x.Reversible > 0).ToDictionary(x => companies + x.Index, x => x.Reversible),
        };
    }

    public static bool IsReversible(string type) =>
        type is "ChipsPurchased" or "ServicesPaid" or "RevenueRecognized" or "ExpenseIncurred";

    private static bool CanBackdate(T type) =>
        type is T.Announced or T.Funded or T.WIssued or T.Committed or T.Chips or T.Services or T.Drawn or T.Revenue or T.Expense;

    private static CoKind PickKind(Random rng) => rng.Next(100) switch
    {
        < 10 => CoKind.ChipVendor,
        < 40 => CoKind.AiLab,
        < 55 => CoKind.Cloud,
        < 75 => CoKind.Investor,
        < 85 => CoKind.Bank,
        _ => CoKind.Other,
    };

    private static DealKind PickDealKind(Random rng) => rng.Next(100) switch
    {
        < 35 => DealKind.VendorFinancing,
        < 60 => DealKind.CloudContract,
        < 75 => DealKind.EquityRound,
        < 90 => DealKind.Credit,
        _ => DealKind.Operations,
    };

    /// <summary>Heavy-tailed: most deals have a few events, one in a hundred has thousands (capped by maxDeal).</summary>
    private static int DealSize(Random rng, int maxDeal)
    {
        var (low, high) = rng.Next(100) switch
        {
            < 60 => (3, 10),
            < 85 => (10, 50),
            < 95 => (50, 300),
            < 99 => (300, 1500),
            _ => (1500, 5000),
        };
        low = Math.Min(low, maxDeal);
        high = Math.Min(high, maxDeal);
        return low + rng.Next(high - low + 1);
    }

    private static T NextType(Random rng, Deal deal, bool isLast)
    {
        if (deal.Emitted == 0)
        {
            return deal.Kind switch
            {
                DealKind.VendorFinancing or DealKind.EquityRound => T.Announced,
                DealKind.CloudContract => T.Committed,
                DealKind.Credit => rng.Next(2) == 0 ? T.Announced : T.Drawn,
                _ => T.Revenue,
            };
        }
        if (isLast && deal.Size >= 5 && deal.HasCommitment && deal.Kind != DealKind.Operations && rng.Next(100) < 8)
        {
            return T.Cancelled;
        }
        var type = deal.Kind switch
        {
            DealKind.VendorFinancing => Weighted(rng, (T.Funded, 15), (T.Committed, 8), (T.Chips, 25), (T.Services, 10), (T.WIssued, 4),
                (T.WVested, 6), (T.WExercised, 4), (T.Revenue, 6), (T.Expense, 6), (T.Announced, 2)),
            DealKind.CloudContract => Weighted(rng, (T.Services, 40), (T.Committed, 6), (T.Announced, 3), (T.Funded, 8), (T.Revenue, 8),
                (T.Expense, 6)),
            DealKind.EquityRound => Weighted(rng, (T.Funded, 45), (T.Expense, 15), (T.Revenue, 10), (T.WIssued, 3), (T.WVested, 3),
                (T.WExercised, 2), (T.Announced, 4)),
            DealKind.Credit => Weighted(rng, (T.Drawn, 30), (T.Repaid, 30), (T.Expense, 10), (T.Revenue, 10), (T.Funded, 5)),
            _ => Weighted(rng, (T.Revenue, 50), (T.Expense, 50)),
        };
        // Fall back to what the deal's state allows.
        return type switch
        {
            T.Funded when deal.Cap - deal.Funded < 1 => T.Announced,
            T.WVested when deal.Issued - deal.Vested < 1 => T.WIssued,
            T.WExercised when deal.Vested - deal.Exercised < 1 => deal.Issued - deal.Vested >= 1 ? T.WVested : T.WIssued,
            T.Repaid when deal.Drawn - deal.Repaid < 1 => T.Drawn,
            _ => type,
        };
    }

    private static T Weighted(Random rng, params (T Type, int Weight)[] choices)
    {
        var total = 0;
        foreach (var c in choices)
        {
            total += c.Weight;
        }
        var pick = rng.Next(total);
        foreach (var c in choices)
        {
            if ((pick -= c.Weight) < 0)
            {
                return c.Type;
            }
        }
        return choices[^1].Type;
    }

    private static void WriteDealEvent(Utf8JsonWriter json, Random rng, Deal deal, T type, int day)
    {
        // Who plays which part: the financier A and the counterparty B; purchases go B → A.
        var (a, b, cur) = (deal.A, deal.B, deal.Currency);
        json.WriteStartObject();
        json.WriteString("type", TypeNames[(int)type]);
        json.WriteString("dealId", deal.Id);
        switch (type)
        {
            case T.Announced:
            {
                json.WriteString("investor", a);
                json.WriteString("investee", b);
                var upTo = Magnitude(rng, 8, 11);
                WriteMoney(json, "upTo", upTo, cur);
                json.WriteString("instrument", deal.Kind == DealKind.Credit ? "debt" : rng.Next(5) == 0 ? "convertible" : "equity");
                if (rng.Next(4) == 0)
                {
                    json.WriteStartArray("milestones");
                    json.WriteStringValue("first tranche at signing");
                    json.WriteStringValue("rest on deployment milestones");
                    json.WriteEndArray();
                }
                deal.Cap += upTo;
                deal.Announced = true;
                deal.LastAnnounceDay = Math.Max(deal.LastAnnounceDay, day);
                deal.HasCommitment = true;
                break;
            }
            case T.Funded:
            {
                json.WriteString("investor", a);
                json.WriteString("investee", b);
                var remaining = deal.Cap - deal.Funded;
                var amount = Math.Max(1m, Math.Floor(remaining * (2 + rng.Next(29)) / 100m));
                amount = Math.Min(amount, remaining);
                WriteMoney(json, "amount", amount, cur);
                if (rng.Next(2) == 0)
                {
                    json.WriteNumber("shares", 1000 + rng.Next(1_000_000));
                }
                deal.Funded += amount;
                break;
            }
            case T.WIssued:
            {
                json.WriteString("issuer", a);
                json.WriteString("holder", b);
                long shares = 1_000_000 + rng.Next(160_000_000);
                json.WriteNumber("shares", shares);
                WriteMoney(json, "strikePrice", rng.Next(3) == 0 ? 0.01m : rng.Next(1, 200), cur);
                if (rng.Next(3) == 0)
                {
                    json.WriteStartArray("tranches");
                    json.WriteStartObject();
                    json.WriteNumber("shares", shares / 2);
                    json.WriteString("condition", "first GW deployed");
                    json.WriteEndObject();
                    json.WriteStartObject();
                    json.WriteNumber("shares", shares - shares / 2);
                    json.WriteString("condition", "share price target");
                    json.WriteEndObject();
                    json.WriteEndArray();
                }
                deal.Issued += shares;
                break;
            }
            case T.WVested:
            {
                json.WriteString("issuer", a);
                json.WriteString("holder", b);
                var shares = Part(rng, deal.Issued - deal.Vested);
                json.WriteNumber("shares", shares);
                deal.Vested += shares;
                break;
            }
            case T.WExercised:
            {
                json.WriteString("issuer", a);
                json.WriteString("holder", b);
                var shares = Part(rng, deal.Vested - deal.Exercised);
                json.WriteNumber("shares", shares);
                deal.Exercised += shares;
                break;
            }
            case T.Committed:
                json.WriteString("buyer", b);
                json.WriteString("seller", a);
                WriteMoney(json, "amount", Magnitude(rng, 7, 10), cur);
                if (rng.Next(2) == 0)
                {
                    json.WriteStartObject("capacity");
                    json.WriteNumber("value", 1 + rng.Next(500));
                    json.WriteString("unit", rng.Next(2) == 0 ? "MW" : "GPU-hours");
                    json.WriteEndObject();
                }
                deal.HasCommitment = true;
                break;
            case T.Chips:
                json.WriteString("buyer", b);
                json.WriteString("vendor", a);
                json.WriteString("chipModel", ChipModels[rng.Next(ChipModels.Length)]);
                json.WriteNumber("units", 100 + rng.Next(100_000));
                WriteMoney(json, "unitPrice", 10_000 + rng.Next(30_001), cur);
                deal.Reversible++;
                break;
            case T.Services:
                json.WriteString("payer", b);
                json.WriteString("payee", a);
                WriteMoney(json, "amount", Magnitude(rng, 5, 9), cur);
                json.WriteString("description", rng.Next(2) == 0 ? "GPU hours" : "cloud capacity, monthly");
                deal.Reversible++;
                break;
            case T.Drawn:
            {
                json.WriteString("lender", a);
                json.WriteString("borrower", b);
                var amount = Magnitude(rng, 6, 9);
                WriteMoney(json, "amount", amount, cur);
                deal.Drawn += amount;
                break;
            }
            case T.Repaid:
            {
                json.WriteString("lender", a);
                json.WriteString("borrower", b);
                var owed = deal.Drawn - deal.Repaid;
                var amount = Math.Min(owed, Math.Max(1m, Math.Floor(owed * (10 + rng.Next(91)) / 100m)));
                WriteMoney(json, "amount", amount, cur);
                deal.Repaid += amount;
                break;
            }
            case T.Revenue:
                json.WriteString("company", rng.Next(2) == 0 ? a : b);
                WriteMoney(json, "amount", Magnitude(rng, 5, 9), cur);
                if (rng.Next(2) == 0)
                {
                    json.WriteString("description", "subscriptions and API");
                }
                deal.Reversible++;
                break;
            case T.Expense:
                json.WriteString("company", rng.Next(2) == 0 ? b : a);
                WriteMoney(json, "amount", Magnitude(rng, 5, 9), cur);
                json.WriteString("category", rng.Next(2) == 0 ? "payroll" : "power");
                deal.Reversible++;
                break;
            case T.Cancelled:
                json.WriteString("reason", "deal called off");
                break;
            default:
                throw new InvalidOperationException(type.ToString());
        }
        json.WriteString("effectiveOn", Day(day));
        if (rng.Next(2) == 0)
        {
            json.WriteString("source", "synthetic press report");
        }
        json.WriteEndObject();
    }

    private static long Part(Random rng, long available) => Math.Max(1, available * (10 + rng.Next(91)) / 100);

    /// <summary>A whole amount between 10^lowExp and 10^highExp, drawn without floating point (byte-identical everywhere).</summary>
    private static decimal Magnitude(Random rng, int lowExp, int highExp)
    {
        decimal scale = 1;
        for (var e = lowExp + rng.Next(highExp - lowExp); e > 0; e--)
        {
            scale *= 10;
        }
        return (1 + rng.Next(999)) * scale / 100m is var v && v >= 1 ? Math.Floor(v) : 1m;
    }

    private static void WriteMoney(Utf8JsonWriter json, string name, decimal amount, string currency)
    {
        json.WriteStartObject(name);
        json.WriteNumber("amount", amount);
        json.WriteString("currency", currency);
        json.WriteEndObject();
    }

    private static string Day(int day) => Start.AddDays(day).ToString("yyyy-MM-dd");

    /// <summary>Draws names with probability ∝ 1/rank: the first few are very busy.</summary>
    private sealed class ZipfPool
    {
        private readonly List<string> _names;
        private readonly double[] _cumulative;

        public ZipfPool(List<string> names)
        {
            _names = names;
            _cumulative = new double[names.Count];
            var sum = 0.0;
            for (var i = 0; i < names.Count; i++)
            {
                sum += 1.0 / (i + 1);
                _cumulative[i] = sum;
            }
        }

        public string Draw(Random rng)
        {
            var u = rng.NextDouble() * _cumulative[^1];
            var i = Array.BinarySearch(_cumulative, u);
            return _names[Math.Min(i < 0 ? ~i : i, _names.Count - 1)];
        }
    }
}
