using FlowLedger.Domain;
using FlowLedger.Tests.Builders;
using static FlowLedger.Tests.Builders.Ledger;

namespace FlowLedger.Tests;

/// <summary>The postings of every event type (SPEC §4) and the rules a deal's own history enforces.</summary>
public sealed class DealBookTests
{
    private static readonly Capacity SixGigawatts = new(6m, "GW");

    // Investments

    [Fact]
    public void An_announcement_commits_its_upTo_from_investor_to_investee() =>
        new DealBook().Apply(Make.Announcement(Nvidia, OpenAi, Usd(100)))
            .AssertPosts(Post.Commitment(Nvidia, OpenAi, Usd(100)));

    [Fact]
    public void A_funding_pays_cash_from_investor_to_investee_and_releases_that_much_of_the_announced_commitment()
    {
        var book = Books.After(Make.Announcement(Nvidia, OpenAi, Usd(100)));

        book.Apply(Make.Funding(Nvidia, OpenAi, Usd(30)))
            .AssertPosts(Post.Cash(Nvidia, OpenAi, Usd(30)), Post.Release(OpenAi, Nvidia, Usd(30)));
        Assert.Equal(70m, book.Outstanding(Nvidia, OpenAi));
    }

    [Fact]
    public void A_funding_for_shares_also_gives_the_investor_that_many_shares_of_the_investee() =>
        new DealBook().Apply(Make.Funding(Nvidia, OpenAi, Usd(30), shares: 1_000))
            .AssertPosts(
                Post.Cash(Nvidia, OpenAi, Usd(30)),
                Post.Holding(Assets.Shares(OpenAi), OpenAi, Nvidia, 1_000));

    [Fact]
    public void A_funding_without_an_announcement_only_moves_cash() =>
        new DealBook().Apply(Make.Funding(Nvidia, OpenAi, Usd(30)))
            .AssertPosts(Post.Cash(Nvidia, OpenAi, Usd(30)));

    [Fact]
    public void Funding_up_to_exactly_the_announced_upTo_keeps_the_rules_and_leaves_nothing_outstanding()
    {
        var book = Books.After(Make.Announcement(Nvidia, OpenAi, Usd(100)));

        Assert.Empty(book.Apply(Make.Funding(Nvidia, OpenAi, Usd(100))).Violations);
        Assert.Equal(0m, book.Outstanding(Nvidia, OpenAi));
    }

    [Fact]
    public void Funding_beyond_the_announced_upTo_breaks_a_rule() =>
        Assert.NotEmpty(Books.After(Make.Announcement(Nvidia, OpenAi, Usd(100)))
            .Apply(Make.Funding(Nvidia, OpenAi, Usd(100.01m))).Violations);

    [Fact]
    public void Fundings_between_the_same_parties_count_together_against_the_upTo() =>
        Assert.NotEmpty(Books.After(Make.Announcement(Nvidia, OpenAi, Usd(100)), Make.Funding(Nvidia, OpenAi, Usd(60)))
            .Apply(Make.Funding(Nvidia, OpenAi, Usd(50))).Violations);

    [Fact]
    public void Announcements_between_the_same_parties_add_up_to_one_upTo() =>
        Assert.Empty(Books.After(Make.Announcement(Nvidia, OpenAi, Usd(60)), Make.Announcement(Nvidia, OpenAi, Usd(40)))
            .Apply(Make.Funding(Nvidia, OpenAi, Usd(100))).Violations);

    [Fact]
    public void The_upTo_is_kept_per_currency()
    {
        var book = Books.After(
            Make.Announcement(Nvidia, OpenAi, Usd(100)),
            Make.Announcement(Nvidia, OpenAi, Eur(100)),
            Make.Funding(Nvidia, OpenAi, Usd(80)),
            Make.Funding(Nvidia, OpenAi, Eur(80)));

        Assert.NotEmpty(book.Apply(Make.Funding(Nvidia, OpenAi, Usd(30))).Violations);
    }

    [Fact]
    public void A_funding_in_a_currency_the_parties_never_announced_breaks_a_rule() =>
        Assert.NotEmpty(Books.After(Make.Announcement(Nvidia, OpenAi, Usd(100)))
            .Apply(Make.Funding(Nvidia, OpenAi, Eur(10))).Violations);

    [Fact]
    public void The_upTo_binds_only_the_investor_and_investee_that_announced_it()
    {
        var book = Books.After(Make.Announcement(Nvidia, OpenAi, Usd(100)));

        Assert.Empty(book.Apply(Make.Funding(Amd, OpenAi, Usd(500))).Violations);
        Assert.Empty(book.Apply(Make.Funding(OpenAi, Nvidia, Usd(500))).Violations);
    }

    [Fact]
    public void A_funding_effective_before_the_announcement_still_counts_against_its_upTo() =>
        Assert.NotEmpty(Books.After(Make.Funding(Nvidia, OpenAi, Usd(80)), Make.Announcement(Nvidia, OpenAi, Usd(100)))
            .Apply(Make.Funding(Nvidia, OpenAi, Usd(50))).Violations);

    // Commitment release

    [Fact]
    public void A_payment_inside_a_deal_first_settles_the_outstanding_commitment_in_the_same_direction()
    {
        var book = Books.After(Make.PurchaseCommitment(OpenAi, Oracle, Usd(300)));

        book.Apply(Make.Services(OpenAi, Oracle, Usd(40)))
            .AssertPosts(Post.Cash(OpenAi, Oracle, Usd(40)), Post.Release(Oracle, OpenAi, Usd(40)));
        Assert.Equal(260m, book.Outstanding(OpenAi, Oracle));
    }

    [Fact]
    public void A_payment_larger_than_the_outstanding_commitment_releases_only_what_is_outstanding()
    {
        var book = Books.After(Make.Announcement(Nvidia, OpenAi, Usd(100)));

        book.Apply(Make.Services(Nvidia, OpenAi, Usd(150)))
            .AssertPosts(Post.Cash(Nvidia, OpenAi, Usd(150)), Post.Release(OpenAi, Nvidia, Usd(100)));
        Assert.Equal(0m, book.Outstanding(Nvidia, OpenAi));
    }

    [Fact]
    public void A_funding_after_other_payments_releases_only_what_they_left_outstanding() =>
        Books.After(Make.Announcement(Nvidia, OpenAi, Usd(100)), Make.Services(Nvidia, OpenAi, Usd(80)))
            .Apply(Make.Funding(Nvidia, OpenAi, Usd(50)))
            .AssertPosts(Post.Cash(Nvidia, OpenAi, Usd(50)), Post.Release(OpenAi, Nvidia, Usd(20)));

    [Fact]
    public void A_payment_in_the_other_direction_releases_nothing()
    {
        var book = Books.After(Make.Announcement(Nvidia, OpenAi, Usd(100)));

        book.Apply(Make.Services(OpenAi, Nvidia, Usd(40))).AssertPosts(Post.Cash(OpenAi, Nvidia, Usd(40)));
        Assert.Equal(100m, book.Outstanding(Nvidia, OpenAi));
    }

    [Fact]
    public void A_payment_in_another_currency_releases_nothing() =>
        Books.After(Make.Announcement(Nvidia, OpenAi, Usd(100)))
            .Apply(Make.Services(Nvidia, OpenAi, Eur(40)))
            .AssertPosts(Post.Cash(Nvidia, OpenAi, Eur(40)));

    // Warrants

    [Fact]
    public void Issuing_warrants_gives_the_holder_unvested_warrants_on_the_issuer() =>
        new DealBook().Apply(Make.Issue(Amd, OpenAi, 160, Usd(0.01m)))
            .AssertPosts(Post.Holding(Assets.UnvestedWarrants(Amd), Amd, OpenAi, 160));

    [Fact]
    public void Vesting_moves_warrants_from_unvested_to_vested() =>
        Books.After(Make.Issue(Amd, OpenAi, 160, Usd(0.01m)))
            .Apply(Make.Vest(Amd, OpenAi, 40))
            .AssertPosts(
                Post.Holding(Assets.UnvestedWarrants(Amd), OpenAi, Amd, 40),
                Post.Holding(Assets.VestedWarrants(Amd), Amd, OpenAi, 40));

    [Fact]
    public void Vesting_more_warrants_than_are_unvested_breaks_a_rule() =>
        Books.After(Make.Issue(Amd, OpenAi, 100, Usd(1)), Make.Vest(Amd, OpenAi, 60))
            .Apply(Make.Vest(Amd, OpenAi, 41))
            .AssertRefusedWithoutPostings();

    [Fact]
    public void Vesting_warrants_that_were_never_issued_breaks_a_rule() =>
        new DealBook().Apply(Make.Vest(Amd, OpenAi, 1)).AssertRefusedWithoutPostings();

    [Fact]
    public void Exercising_turns_vested_warrants_into_shares_and_the_holder_pays_shares_times_strike() =>
        Books.After(Make.Issue(Amd, OpenAi, 100, Usd(2)), Make.Vest(Amd, OpenAi, 100))
            .Apply(Make.Exercise(Amd, OpenAi, 40))
            .AssertPosts(
                Post.Holding(Assets.VestedWarrants(Amd), OpenAi, Amd, 40),
                Post.Holding(Assets.Shares(Amd), Amd, OpenAi, 40),
                Post.Cash(OpenAi, Amd, Usd(80)));

    [Fact]
    public void Exercising_warrants_with_a_zero_strike_moves_no_cash() =>
        Books.After(Make.Issue(Amd, OpenAi, 100, Usd(0)), Make.Vest(Amd, OpenAi, 100))
            .Apply(Make.Exercise(Amd, OpenAi, 100))
            .AssertPosts(
                Post.Holding(Assets.VestedWarrants(Amd), OpenAi, Amd, 100),
                Post.Holding(Assets.Shares(Amd), Amd, OpenAi, 100));

    [Fact]
    public void Lots_with_different_strikes_vest_and_are_exercised_oldest_first_each_at_its_own_strike()
    {
        var book = Books.After(
            Make.Issue(Amd, OpenAi, 100, Usd(1)),
            Make.Issue(Amd, OpenAi, 100, Usd(3)),
            Make.Vest(Amd, OpenAi, 150));

        var strikePaid = book.Apply(Make.Exercise(Amd, OpenAi, 120)).Postings.Single(p => p.Layer == Layer.Cash);

        Assert.Equal(Post.Cash(OpenAi, Amd, Usd(100 * 1 + 20 * 3)), strikePaid);
    }

    [Fact]
    public void Exercising_more_warrants_than_are_vested_breaks_a_rule() =>
        Books.After(Make.Issue(Amd, OpenAi, 100, Usd(1)), Make.Vest(Amd, OpenAi, 30))
            .Apply(Make.Exercise(Amd, OpenAi, 31))
            .AssertRefusedWithoutPostings();

    [Fact]
    public void Warrants_already_exercised_cannot_be_exercised_again() =>
        Books.After(Make.Issue(Amd, OpenAi, 100, Usd(1)), Make.Vest(Amd, OpenAi, 30), Make.Exercise(Amd, OpenAi, 20))
            .Apply(Make.Exercise(Amd, OpenAi, 11))
            .AssertRefusedWithoutPostings();

    // Purchases

    [Fact]
    public void A_purchase_commitment_of_an_amount_commits_it_from_buyer_to_seller() =>
        new DealBook().Apply(Make.PurchaseCommitment(OpenAi, Oracle, amount: Usd(300)))
            .AssertPosts(Post.Commitment(OpenAi, Oracle, Usd(300)));

    [Fact]
    public void A_purchase_commitment_of_capacity_gives_the_buyer_contracted_capacity_from_the_seller() =>
        new DealBook().Apply(Make.PurchaseCommitment(OpenAi, Oracle, capacity: SixGigawatts))
            .AssertPosts(Post.Holding(Assets.Capacity("GW"), Oracle, OpenAi, 6));

    [Fact]
    public void A_purchase_commitment_of_amount_and_capacity_posts_both() =>
        new DealBook().Apply(Make.PurchaseCommitment(OpenAi, Oracle, Usd(300), SixGigawatts))
            .AssertPosts(
                Post.Commitment(OpenAi, Oracle, Usd(300)),
                Post.Holding(Assets.Capacity("GW"), Oracle, OpenAi, 6));

    [Fact]
    public void A_chip_purchase_pays_units_times_unit_price_and_gives_the_buyer_the_chips() =>
        new DealBook().Apply(Make.Chips(OpenAi, Nvidia, 1_000, Usd(2.5m), model: "GB200"))
            .AssertPosts(
                Post.Cash(OpenAi, Nvidia, Usd(2_500)),
                Post.Holding(Assets.Chips("GB200"), Nvidia, OpenAi, 1_000));

    [Fact]
    public void A_chip_purchase_settles_the_buyers_purchase_commitment_to_the_vendor()
    {
        var book = Books.After(Make.PurchaseCommitment(OpenAi, Nvidia, amount: Usd(100)));

        book.Apply(Make.Chips(OpenAi, Nvidia, 10, Usd(3)))
            .AssertPosts(
                Post.Cash(OpenAi, Nvidia, Usd(30)),
                Post.Release(Nvidia, OpenAi, Usd(30)),
                Post.Holding(Assets.Chips("H100"), Nvidia, OpenAi, 10));
        Assert.Equal(70m, book.Outstanding(OpenAi, Nvidia));
    }

    [Fact]
    public void A_services_payment_pays_the_payee() =>
        new DealBook().Apply(Make.Services(OpenAi, Oracle, Usd(40)))
            .AssertPosts(Post.Cash(OpenAi, Oracle, Usd(40)));

    // Loans

    [Fact]
    public void Drawing_a_loan_pays_the_borrower_and_gives_the_lender_a_claim_on_the_borrower() =>
        new DealBook().Apply(Make.Loan(Nvidia, OpenAi, Usd(100)))
            .AssertPosts(
                Post.Cash(Nvidia, OpenAi, Usd(100)),
                Post.Holding(Assets.Loan("USD"), OpenAi, Nvidia, 100));

    [Fact]
    public void Repaying_a_loan_pays_the_lender_back_and_reduces_the_claim() =>
        Books.After(Make.Loan(Nvidia, OpenAi, Usd(100)))
            .Apply(Make.Repayment(Nvidia, OpenAi, Usd(60)))
            .AssertPosts(
                Post.Cash(OpenAi, Nvidia, Usd(60)),
                Post.Holding(Assets.Loan("USD"), Nvidia, OpenAi, 60));

    [Fact]
    public void Repaying_more_than_is_owed_breaks_a_rule() =>
        Books.After(Make.Loan(Nvidia, OpenAi, Usd(100)), Make.Repayment(Nvidia, OpenAi, Usd(60)))
            .Apply(Make.Repayment(Nvidia, OpenAi, Usd(41)))
            .AssertRefusedWithoutPostings();

    [Fact]
    public void Repaying_a_loan_in_another_currency_than_it_was_drawn_in_breaks_a_rule() =>
        Books.After(Make.Loan(Nvidia, OpenAi, Usd(100)))
            .Apply(Make.Repayment(Nvidia, OpenAi, Eur(10)))
            .AssertRefusedWithoutPostings();

    // Revenue and expenses

    [Fact]
    public void Revenue_is_cash_from_outside_the_ledger_to_the_company() =>
        new DealBook().Apply(Make.Revenue(OpenAi, Usd(12)))
            .AssertPosts(Post.Cash(Parties.External, OpenAi, Usd(12)));

    [Fact]
    public void An_expense_is_cash_from_the_company_to_outside_the_ledger() =>
        new DealBook().Apply(Make.Expense(OpenAi, Usd(7)))
            .AssertPosts(Post.Cash(OpenAi, Parties.External, Usd(7)));

    // Cancellation

    [Fact]
    public void Cancelling_releases_every_outstanding_commitment_of_the_deal_in_every_direction_and_currency()
    {
        var book = Books.After(
            Make.Announcement(Nvidia, OpenAi, Usd(100)),
            Make.PurchaseCommitment(OpenAi, Nvidia, amount: Usd(50)),
            Make.PurchaseCommitment(OpenAi, Oracle, amount: Eur(20)));

        book.Apply(Make.Cancellation())
            .AssertPosts(
                Post.Release(OpenAi, Nvidia, Usd(100)),
                Post.Release(Nvidia, OpenAi, Usd(50)),
                Post.Release(Oracle, OpenAi, Eur(20)));
        Assert.All(book.Commitments, line => Assert.Equal(0m, line.Outstanding));
    }

    [Fact]
    public void Cancelling_releases_only_the_part_of_a_commitment_still_outstanding() =>
        Books.After(Make.Announcement(Nvidia, OpenAi, Usd(100)), Make.Funding(Nvidia, OpenAi, Usd(30)))
            .Apply(Make.Cancellation())
            .AssertPosts(Post.Release(OpenAi, Nvidia, Usd(70)));

    [Fact]
    public void Cancelling_a_deal_whose_commitments_are_all_settled_posts_nothing() =>
        Books.After(Make.Announcement(Nvidia, OpenAi, Usd(100)), Make.Funding(Nvidia, OpenAi, Usd(100)))
            .Apply(Make.Cancellation())
            .AssertPosts();

    // Reversals

    [Fact]
    public void A_reversal_is_never_folded_into_a_book_because_visibility_removes_it_with_its_target()
    {
        var reversal = Make.Reversal(Guid.NewGuid(), Day(3));

        Assert.Throws<InvalidOperationException>(() => new DealBook().Apply(reversal));
    }
}
