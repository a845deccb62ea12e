using System.Threading.Channels;
using FlowLedger.Api.Reading;
using Marten;
using Npgsql;

namespace FlowLedger.Api.Live;

/// <summary>
/// This node's side of the live updates: it learns from <see cref="FeedAdvanced"/> how far the ledger's
/// subscription has got, reads the new events once, and hands each subscriber the updates of its topics.
/// Only sequences the subscription has passed are read, so an event still being committed below them can
/// never be skipped.
/// </summary>
public sealed class LiveFeed(IDocumentStore store, ILogger<LiveFeed> logger)
{
    /// <summary>Events read and turned into updates at a time, during a catch-up or a burst.</summary>
    public const int PageSize = 1000;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly List<LiveSubscriber> _subscribers = [];
    private long? _mark;

    /// <summary>
    /// Adds a subscriber and answers the sequence from which the feed delivers to it: whatever came before
    /// is the subscriber's to catch up on (<see cref="CatchUpAsync"/>).
    /// </summary>
    public async Task<long> JoinAsync(LiveSubscriber subscriber, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            _mark ??= await SubscriptionProgressAsync(ct);
            lock (_subscribers)
            {
                _subscribers.Add(subscriber);
            }
            return _mark.Value;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Leave(LiveSubscriber subscriber)
    {
        lock (_subscribers)
        {
            _subscribers.Remove(subscriber);
        }
    }

    /// <summary>The updates of the events after <paramref name="afterSequence"/> up to <paramref name="throughSequence"/>, page by page.</summary>
    public async IAsyncEnumerable<LivePage> CatchUpAsync(
        long afterSequence, long throughSequence, TopicSet topics, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        while (afterSequence < throughSequence)
        {
            var events = await ListEventsEndpoint.ReadAsync(store, afterSequence, throughSequence, dealId: null, companyId: null, PageSize, ct);
            if (events.Count == 0)
            {
                yield break;
            }
            afterSequence = events[^1].Sequence;
            yield return new LivePage(afterSequence, await LiveUpdates.BuildAsync(store, events, topics, ct));
        }
    }

    /// <summary>Delivers the updates of every event up to <paramref name="throughSequence"/> that this node has not delivered yet.</summary>
    public async Task AdvanceAsync(long throughSequence, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            var mark = _mark ??= await SubscriptionProgressAsync(ct);
            if (throughSequence <= mark)
            {
                return;
            }
            List<LiveSubscriber> subscribers;
            lock (_subscribers)
            {
                subscribers = [.. _subscribers];
            }
            if (subscribers.Count > 0)
            {
                await foreach (var page in CatchUpAsync(mark, throughSequence, TopicSet.Union(subscribers.Select(s => s.Topics)), ct))
                {
                    foreach (var subscriber in subscribers)
                    {
                        subscriber.Offer(page.Updates);
                    }
                    _mark = page.ThroughSequence;
                }
            }
            _mark = throughSequence;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            // The next advance reads from the same mark, so nothing is lost; the subscribers only wait longer.
            logger.LogWarning(ex, "Live updates up to sequence {Sequence} could not be read yet", throughSequence);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Where the ledger's subscription stands: on a fresh node, updates start after it.</summary>
    private async Task<long> SubscriptionProgressAsync(CancellationToken ct)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(
            $"select coalesce(max(last_seq_id), 0) from {store.Options.Events.DatabaseSchemaName}.mt_event_progression where name like @name",
            connection);
        command.Parameters.AddWithValue("name", LiveFeedSubscription.Name + ":%");
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }
}

/// <summary>The updates of the events up to a sequence.</summary>
public sealed record LivePage(long ThroughSequence, IReadOnlyList<LiveUpdate> Updates);

/// <summary>
/// One SSE connection's queue of pages of updates. It is bounded: a subscriber that falls that far behind is
/// cut off instead of holding memory or slowing anyone else, and reconnects with Last-Event-ID to catch up.
/// A page is queued whole, so the updates one event caused are never split between two writes.
/// </summary>
public sealed class LiveSubscriber(TopicSet topics, int capacity)
{
    private readonly Channel<IReadOnlyList<LiveUpdate>> _queue = Channel.CreateBounded<IReadOnlyList<LiveUpdate>>(
        new BoundedChannelOptions(capacity) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });

    public TopicSet Topics { get; } = topics;

    public ChannelReader<IReadOnlyList<LiveUpdate>> Pages => _queue.Reader;

    public void Offer(IEnumerable<LiveUpdate> updates)
    {
        var mine = updates.Where(u => Topics.Contains(u.Topic)).ToList();
        if (mine.Count > 0 && !_queue.Writer.TryWrite(mine))
        {
            _queue.Writer.TryComplete();
        }
    }
}
