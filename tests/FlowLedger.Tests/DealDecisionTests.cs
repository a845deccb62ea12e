using FlowLedger.Domain;
using FlowLedger.Tests.Builders;
using static FlowLedger.Tests.Builders.Ledger;

namespace FlowLedger.Tests;

/// <summary>
/// Whether a deal takes one more event: the candidate is placed in the order of SPEC §2, after every
/// recorded event of its day, and checked against everything before and after it.
/// </summary>
public sealed class DealDecisionTests
{
    private readonly History _history = new();

    [Fact]
    public void An_event_that_breaks_no_rule_is_accepted()
    {
        _history.Record(Make.Announcement(Nvidia, OpenAi, Usd(100)));

        Assert.Empty(_history.Decide(Make.Funding(Nvidia, OpenAi, Usd(50))));
    }

    [Fact]
    public void An_event_that_breaks_a_rule_is_refused_as_a_broken_rule()
    {
        _history.Record(Make.Announcement(Nvidia, OpenAi, Usd(100)));

        _history.Decide(Make.Funding(Nvidia, OpenAi, Usd(101))).AssertRefusedAs(Refusal.RuleBroken);
    }

    // Backdating

    [Fact]
    public void A_vest_backdated_before_its_warrants_were_issued_is_refused()
    {
        _history.Record(Make.Issue(Amd, OpenAi, 100, Usd(1), on: Day(6)));

        _history.Decide(Make.Vest(Amd, OpenAi, 50, on: Day(3))).AssertRefusedAs(Refusal.RuleBroken);
    }

    [Fact]
    public void A_candidate_comes_after_every_recorded_event_of_its_day()
    {
        _history.Record(Make.Issue(Amd, OpenAi, 100, Usd(1), on: Day(6)));
        _history.Record(Make.Vest(Amd, OpenAi, 100, on: Day(6)));

        Assert.Empty(_history.Decide(Make.Exercise(Amd, OpenAi, 100, on: Day(6))));
    }

    [Fact]
    public void An_exercise_backdated_before_the_vest_it_needs_is_refused()
    {
        _history.Record(Make.Issue(Amd, OpenAi, 100, Usd(1), on: Day(3)));
        _history.Record(Make.Vest(Amd, OpenAi, 100, on: Day(6)));

        _history.Decide(Make.Exercise(Amd, OpenAi, 100, on: Day(5))).AssertRefusedAs(Refusal.RuleBroken);
    }

    [Fact]
    public void A_funding_backdated_before_a_later_funding_that_together_exceed_the_upTo_is_refused()
    {
        _history.Record(Make.Announcement(Nvidia, OpenAi, Usd(100), on: Day(1)));
        _history.Record(Make.Funding(Nvidia, OpenAi, Usd(70), on: Day(6)));

        _history.Decide(Make.Funding(Nvidia, OpenAi, Usd(40), on: Day(3))).AssertRefusedAs(Refusal.RuleBroken);
    }

    [Fact]
    public void An_announcement_backdated_before_existing_fundings_caps_them()
    {
        _history.Record(Make.Funding(Nvidia, OpenAi, Usd(80), on: Day(6)));

        _history.Decide(Make.Announcement(Nvidia, OpenAi, Usd(50), on: Day(3))).AssertRefusedAs(Refusal.RuleBroken);
    }

    [Fact]
    public void A_repayment_backdated_before_its_loan_was_drawn_is_refused()
    {
        _history.Record(Make.Loan(Nvidia, OpenAi, Usd(100), on: Day(6)));

        _history.Decide(Make.Repayment(Nvidia, OpenAi, Usd(10), on: Day(3))).AssertRefusedAs(Refusal.RuleBroken);
    }

    // Reversals

    [Fact]
    public void Reversing_an_event_that_nothing_depends_on_is_accepted()
    {
        var funding = _history.Record(Make.Funding(Nvidia, OpenAi, Usd(80)));

        Assert.Empty(_history.Decide(Make.Reversal(funding)));
    }

    [Fact]
    public void Reversing_an_event_the_deal_never_recorded_is_refused_as_not_found() =>
        _history.Decide(Make.Reversal(Guid.NewGuid(), Day(3))).AssertRefusedAs(Refusal.NotFound);

    [Fact]
    public void Reversing_a_reversal_is_refused()
    {
        var funding = _history.Record(Make.Funding(Nvidia, OpenAi, Usd(80)));
        var reversal = _history.Record(Make.Reversal(funding));

        _history.Decide(Make.Reversal(reversal)).AssertRefusedAs(Refusal.RuleBroken);
    }

    [Fact]
    public void Reversing_an_event_twice_is_refused()
    {
        var funding = _history.Record(Make.Funding(Nvidia, OpenAi, Usd(80)));
        _history.Record(Make.Reversal(funding));

        _history.Decide(Make.Reversal(funding)).AssertRefusedAs(Refusal.RuleBroken);
    }

    [Fact]
    public void A_reversal_effective_on_another_day_than_its_target_is_refused()
    {
        var funding = _history.Record(Make.Funding(Nvidia, OpenAi, Usd(80), on: Day(3)));

        _history.Decide(Make.Reversal(funding, on: Day(4))).AssertRefusedAs(Refusal.RuleBroken);
    }

    [Fact]
    public void A_reversed_funding_no_longer_counts_against_the_upTo()
    {
        _history.Record(Make.Announcement(Nvidia, OpenAi, Usd(100)));
        var funding = _history.Record(Make.Funding(Nvidia, OpenAi, Usd(80)));
        _history.Record(Make.Reversal(funding));

        Assert.Empty(_history.Decide(Make.Funding(Nvidia, OpenAi, Usd(90))));
    }

    [Fact]
    public void Reversing_the_warrant_issue_a_vest_depends_on_is_refused()
    {
        var issue = _history.Record(Make.Issue(Amd, OpenAi, 100, Usd(1)));
        _history.Record(Make.Vest(Amd, OpenAi, 50));

        _history.Decide(Make.Reversal(issue)).AssertRefusedAs(Refusal.RuleBroken);
    }

    [Fact]
    public void Reversing_the_loan_a_repayment_depends_on_is_refused()
    {
        var loan = _history.Record(Make.Loan(Nvidia, OpenAi, Usd(100)));
        _history.Record(Make.Repayment(Nvidia, OpenAi, Usd(50)));

        _history.Decide(Make.Reversal(loan)).AssertRefusedAs(Refusal.RuleBroken);
    }

    [Fact]
    public void Reversing_one_of_two_announcements_that_a_funding_needs_both_of_is_refused()
    {
        var first = _history.Record(Make.Announcement(Nvidia, OpenAi, Usd(60)));
        _history.Record(Make.Announcement(Nvidia, OpenAi, Usd(40)));
        _history.Record(Make.Funding(Nvidia, OpenAi, Usd(100)));

        _history.Decide(Make.Reversal(first)).AssertRefusedAs(Refusal.RuleBroken);
    }

    [Fact]
    public void Reversing_the_only_announcement_leaves_a_plain_funding_which_needs_no_announcement()
    {
        var announcement = _history.Record(Make.Announcement(Nvidia, OpenAi, Usd(100)));
        _history.Record(Make.Funding(Nvidia, OpenAi, Usd(80)));

        Assert.Empty(_history.Decide(Make.Reversal(announcement)));
    }
}
