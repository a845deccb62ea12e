using System.Collections.Concurrent;
using System.Diagnostics;
using FlowLedger.Api.Ledger;

namespace FlowLedger.Api.Tests;

/// <summary>
/// The rules the recorder's NOTIFYs rest on: a run starts after every signal, even one given while a run is under way,
/// and runs are spaced out, so a burst of signals shares few runs.
/// </summary>
public sealed class CoalescingTriggerTests
{
    private static readonly TimeSpan Spacing = TimeSpan.FromMilliseconds(50);

    [Fact]
    public async Task Every_burst_of_signals_is_followed_by_a_run_that_started_after_its_last_signal()
    {
        var runStarts = new ConcurrentQueue<long>();
        var trigger = new CoalescingTrigger(async () =>
        {
            runStarts.Enqueue(Stopwatch.GetTimestamp());
            // A run that takes a while, so that signals land while one is under way.
            await Task.Delay(5);
        }, TimeSpan.FromMilliseconds(5));

        for (var burst = 0; burst < 20; burst++)
        {
            var signals = new ConcurrentBag<long>();
            await Parallel.ForAsync(0, 20, async (i, ct) =>
            {
                await Task.Delay(Random.Shared.Next(0, 15), ct);
                signals.Add(Stopwatch.GetTimestamp());
                trigger.Signal();
            });
            await trigger.Idle.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

            Assert.True(runStarts.Max() >= signals.Max(), $"Burst {burst}: no run started after its last signal.");
        }
    }

    [Fact]
    public async Task Runs_are_spaced_out_and_a_burst_shares_them()
    {
        var runStarts = new ConcurrentQueue<long>();
        var trigger = new CoalescingTrigger(() =>
        {
            runStarts.Enqueue(Stopwatch.GetTimestamp());
            return Task.CompletedTask;
        }, Spacing);

        var burst = Stopwatch.StartNew();
        for (var i = 0; i < 100; i++)
        {
            trigger.Signal();
            await Task.Delay(2, TestContext.Current.CancellationToken);
        }
        var burstLasted = burst.Elapsed;
        await trigger.Idle.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        var starts = runStarts.ToArray();
        Assert.InRange(starts.Length, 2, (int)(burstLasted / Spacing) + 2);
        // Task.Delay may wake a timer tick early; the spacing holds to within that.
        Assert.All(starts.Zip(starts.Skip(1)), pair =>
            Assert.True(Stopwatch.GetElapsedTime(pair.First, pair.Second) >= Spacing - TimeSpan.FromMilliseconds(5),
                $"Two runs {Stopwatch.GetElapsedTime(pair.First, pair.Second).TotalMilliseconds:F1} ms apart."));
    }
}
