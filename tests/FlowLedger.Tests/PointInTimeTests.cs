using FlowLedger.Domain;
using FlowLedger.Tests.Builders;
using NodaTime;
using static FlowLedger.Tests.Builders.Ledger;

namespace FlowLedger.Tests;

/// <summary>
/// What a query sees (SPEC §2): the events effective by <c>asOf</c> and recorded by <c>knownAt</c>,
/// minus those reversed by a reversal recorded by <c>knownAt</c>, in the order (effectiveOn, sequence).
/// </summary>
public sealed class PointInTimeTests
{
    private static readonly Duration OneTick = Duration.FromTicks(1);

    private readonly History _history = new();

    [Fact]
    public void Without_limits_every_event_not_reversed_is_visible()
    {
        var first = _history.Record(Make.Revenue(OpenAi, Usd(1), on: Day(3)));
        var second = _history.Record(Make.Revenue(OpenAi, Usd(2), on: Day(9)));

        Assert.Equal([first, second], PointInTime.Latest.Visible(_history.Entries));
    }

    [Fact]
    public void An_event_is_visible_as_of_its_effective_day_and_every_later_day()
    {
        var revenue = _history.Record(Make.Revenue(OpenAi, Usd(1), on: Day(3, 15)));

        Assert.Equal([revenue], new PointInTime(Day(3, 15), null).Visible(_history.Entries));
        Assert.Equal([revenue], new PointInTime(Day(12, 31), null).Visible(_history.Entries));
    }

    [Fact]
    public void An_event_is_not_visible_as_of_a_day_before_it_was_effective()
    {
        _history.Record(Make.Revenue(OpenAi, Usd(1), on: Day(3, 15)));

        Assert.Empty(new PointInTime(Day(3, 14), null).Visible(_history.Entries));
    }

    [Fact]
    public void An_event_is_visible_to_views_known_at_or_after_the_instant_it_was_recorded()
    {
        var revenue = _history.Record(Make.Revenue(OpenAi, Usd(1)));

        Assert.Equal([revenue], new PointInTime(null, revenue.RecordedAt).Visible(_history.Entries));
    }

    [Fact]
    public void An_event_is_not_visible_to_views_known_before_it_was_recorded()
    {
        var revenue = _history.Record(Make.Revenue(OpenAi, Usd(1)));

        Assert.Empty(new PointInTime(null, revenue.RecordedAt - OneTick).Visible(_history.Entries));
    }

    [Fact]
    public void A_backdated_event_changes_todays_view_of_the_past_but_not_the_view_known_before_it_was_recorded()
    {
        var onTime = _history.Record(Make.Revenue(OpenAi, Usd(1), on: Day(2)));
        var backdated = _history.Record(Make.Revenue(OpenAi, Usd(2), on: Day(1)));
        var asOfFebruary = Day(2, 28);

        Assert.Equal([onTime], new PointInTime(asOfFebruary, onTime.RecordedAt).Visible(_history.Entries));
        Assert.Equal([backdated, onTime], new PointInTime(asOfFebruary, null).Visible(_history.Entries));
    }

    [Fact]
    public void A_reversal_removes_its_target_from_views_known_at_or_after_the_reversal_was_recorded()
    {
        var funding = _history.Record(Make.Funding(Nvidia, OpenAi, Usd(80)));
        var reversal = _history.Record(Make.Reversal(funding));

        Assert.Empty(new PointInTime(null, reversal.RecordedAt).Visible(_history.Entries));
        Assert.Empty(PointInTime.Latest.Visible(_history.Entries));
    }

    [Fact]
    public void A_reversal_leaves_its_target_in_views_known_before_the_reversal_was_recorded()
    {
        var funding = _history.Record(Make.Funding(Nvidia, OpenAi, Usd(80)));
        var reversal = _history.Record(Make.Reversal(funding));

        Assert.Equal([funding], new PointInTime(null, reversal.RecordedAt - OneTick).Visible(_history.Entries));
    }

    [Fact]
    public void A_reversal_removes_its_target_whatever_the_reversals_own_effective_day()
    {
        var funding = _history.Record(Make.Funding(Nvidia, OpenAi, Usd(80), on: Day(3)));
        _history.Record(Make.Reversal(funding, on: Day(12)));

        Assert.Empty(new PointInTime(Day(4), null).Visible(_history.Entries));
    }

    [Fact]
    public void Events_are_ordered_by_effective_day_then_by_sequence()
    {
        var june = _history.Record(Make.Revenue(OpenAi, Usd(1), on: Day(6)));
        var marchFirstRecorded = _history.Record(Make.Revenue(OpenAi, Usd(2), on: Day(3)));
        var marchLastRecorded = _history.Record(Make.Revenue(OpenAi, Usd(3), on: Day(3)));

        Assert.Equal([marchFirstRecorded, marchLastRecorded, june], PointInTime.Latest.Visible(_history.Entries));
    }

    [Fact]
    public void Events_of_the_same_day_follow_their_sequence_whatever_order_they_are_given_in()
    {
        var first = _history.Record(Make.Revenue(OpenAi, Usd(1)));
        var second = _history.Record(Make.Revenue(OpenAi, Usd(2)));
        var third = _history.Record(Make.Revenue(OpenAi, Usd(3)));

        Assert.Equal([first, second, third], PointInTime.Latest.Visible([third, first, second]));
    }
}
