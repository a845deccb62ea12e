using FlowLedger.Domain;
using FlowLedger.Tests.Builders;
using NodaTime;
using static FlowLedger.Tests.Builders.Ledger;

namespace FlowLedger.Tests;

/// <summary>
/// The write side decides runs of events with <see cref="DealDecider"/>, which skips refolding the deal
/// when it can. It must answer exactly as refolding everything (<see cref="DealDecision.Check"/>) would.
/// </summary>
public sealed class DealDeciderTests
{
    private static readonly string[] Companies = [Nvidia, OpenAi, Amd, Oracle];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Deciding_incrementally_accepts_and_refuses_exactly_what_a_full_refold_does(int seed)
    {
        var random = new Random(seed);
        var refolded = new List<RecordedEntry>();
        var decider = new DealDecider([]);

        for (var attempt = 0; attempt < 120; attempt++)
        {
            var candidate = new RecordedEntry(Guid.NewGuid(), attempt + 1, Instant.FromUnixTimeSeconds(attempt), RandomEvent(random, refolded));

            var expected = DealDecision.Check(refolded, candidate);
            var actual = decider.Accept(candidate);

            Assert.Equal(expected.Select(b => b.Message), actual.Select(b => b.Message));
            if (expected.Count == 0)
            {
                refolded.Add(candidate);
            }
        }
        Assert.Equal(refolded, decider.History);
        Assert.InRange(refolded.Count, 20, 110); // both answers were exercised
    }

    public static TheoryData<int> Seeds => new(Enumerable.Range(1, 25));

    /// <summary>Mostly in order, sometimes backdated, with reversals; amounts chosen so that rules break now and then.</summary>
    private static IDealEvent RandomEvent(Random random, IReadOnlyList<RecordedEntry> recorded)
    {
        var from = Companies[random.Next(Companies.Length)];
        var to = Companies.Where(c => c != from).ElementAt(random.Next(Companies.Length - 1));
        var day = Day(1).PlusDays(random.Next(4) == 0 ? random.Next(0, 60) : 60 + recorded.Count);
        var amount = Usd(random.Next(1, 80));
        if (random.Next(12) == 0 && recorded.Count > 0)
        {
            var target = recorded[random.Next(recorded.Count)];
            return Make.Reversal(target.EventId, target.EffectiveOn);
        }
        return random.Next(9) switch
        {
            0 => Make.Announcement(from, to, Usd(random.Next(50, 150)), day),
            1 => Make.Funding(from, to, amount, day),
            2 => Make.PurchaseCommitment(from, to, amount: Usd(random.Next(20, 120)), on: day),
            3 => Make.Services(from, to, amount, day),
            4 => Make.Loan(from, to, amount, day),
            5 => Make.Repayment(from, to, amount, day),
            6 => Make.Issue(from, to, random.Next(10, 60), Usd(1), day),
            7 => Make.Vest(from, to, random.Next(1, 40), day),
            _ => Make.Exercise(from, to, random.Next(1, 30), day),
        };
    }
}
