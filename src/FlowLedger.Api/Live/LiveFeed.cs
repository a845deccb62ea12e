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

    /// <summary>The mark before this node has read where the ledger's subscription stands.</summary>
    private const long Unknown = -1;

    /// <summary>Held while the mark moves: by a delivery, or by a subscriber joining at the mark.</summary>
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly List<LiveSubscriber> _subscribers = [];

    /// <summary>The sequence up to which this node has delivered.</summary>
    private long _mark = Unknown;

    /// <summary>The highest sequence any <see cref="FeedAdvanced"/> has announced to this node.</summary>
    private long _announced = Unknown;

    /// <summary>
    /// Adds a subscriber and answers the sequence from which the feed delivers to it: whatever came before
    /// is the subscriber's to catch up on (<see cref="CatchUpAsync"/>).
    /// </summary>
    public async Task<long> JoinAsync(LiveSubscriber subscriber, CancellationToken ct)
    {
        long from;
        await _gate.WaitAsync(ct);
        try
        {
            from = await MarkAsync(ct);
            lock (_subscribers)
            {
                _subscribers.Add(subscriber);
            }
        }
        finally
        {
            _gate.Release();
        }
        // An announcement that came while this held the gate was left to it: delivered for every subscriber, so not
        // given up should this one's client go away meanwhile.
        await DeliverAnnouncedAsync(CancellationToken.None);
        return from;
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

    /// <summary>
    /// Delivers the updates of every event up to <paramref name="throughSequence"/> that this node has not delivered yet.
    /// A delivery already under way takes the announcement over instead: under load, the announcements that come in
    /// during one delivery go out as one page, and so one write to every connection, rather than one page each.
    /// </summary>
    public async Task AdvanceAsync(long throughSequence, CancellationToken ct)
    {
        var announced = Volatile.Read(ref _announced);
        while (announced < throughSequence && Interlocked.CompareExchange(ref _announced, throughSequence, announced) != announced)
        {
            announced = Volatile.Read(ref _announced);
        }
        await DeliverAnnouncedAsync(ct);
    }

    /// <summary>
    /// Delivers up to the latest announcement unless someone holds the gate, who then looks again after letting it
    /// go. A delivery that fails to read stops there: the next announcement tries again from the same mark.
    /// </summary>
    private async Task DeliverAnnouncedAsync(CancellationToken ct)
    {
        while (Volatile.Read(ref _announced) > Volatile.Read(ref _mark) && await _gate.WaitAsync(0, ct))
        {
            bool delivered;
            try
            {
                delivered = await DeliverAsync(Volatile.Read(ref _announced), ct);
            }
            finally
            {
                _gate.Release();
            }
            if (!delivered)
            {
                return;
            }
        }
    }

    /// <summary>Under the gate: delivers the updates of the events after the mark up to <paramref name="throughSequence"/>.</summary>
    private async Task<bool> DeliverAsync(long throughSequence, CancellationToken ct)
    {
        try
        {
            var mark = await MarkAsync(ct);
            if (throughSequence <= mark)
            {
                return true;
            }
            List<LiveSubscriber> subscribers;
            lock (_subscribers)
            {
                subscribers = [.. _subscribers];
            }
            if (subscribers.Count > 0)
            {
                // Subscribers with the same topics get the same text: it is formatted once per topic set, not per connection.
                var audiences = subscribers.GroupBy(s => s.Topics.Key).ToList();
                await foreach (var page in CatchUpAsync(mark, throughSequence, TopicSet.Union(subscribers.Select(s => s.Topics)), ct))
                {
                    foreach (var audience in audiences)
                    {
                        var topics = audience.First().Topics;
                        var text = ServerSentEvents.Encode(page.Updates.Where(u => topics.Contains(u.Topic)).ToList());
                        foreach (var subscriber in audience)
                        {
                            subscriber.Offer(text);
                        }
                    }
                    Volatile.Write(ref _mark, page.ThroughSequence);
                }
            }
            Volatile.Write(ref _mark, throughSequence);
            return true;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            // The next advance reads from the same mark, so nothing is lost; the subscribers only wait longer.
            logger.LogWarning(ex, "Live updates up to sequence {Sequence} could not be read yet", throughSequence);
            return false;
        }
    }

    /// <summary>Under the gate: the mark, read on first use from where the ledger's subscription stands (on a fresh node, updates start after it).</summary>
    private async Task<long> MarkAsync(CancellationToken ct)
    {
        if (_mark == Unknown)
        {
            Volatile.Write(ref _mark, await SubscriptionProgressAsync(ct));
        }
        return _mark;
    }

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
/// One SSE connection's queue of pages, each already in the text/event-stream format. It is bounded by pages and by
/// bytes: a subscriber that falls that far behind is cut off instead of holding memory or slowing anyone else, and
/// reconnects with Last-Event-ID to catch up. A page is queued whole, so the updates one event caused are never
/// split between two writes. Subscribers with the same topics share each page's bytes.
/// </summary>
public sealed class LiveSubscriber(TopicSet topics, SubscriberQueueLimits limits)
{
    private readonly Channel<byte[]> _queue = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private int _queuedPages;
    private long _queuedBytes;

    public TopicSet Topics { get; } = topics;

    /// <summary>Completes when the subscriber has been cut off and everything queued before was read.</summary>
    public ChannelReader<byte[]> Pages => _queue.Reader;

    /// <summary>Queues a page's text; an empty one (none of this subscriber's topics) is not queued.</summary>
    public void Offer(byte[] text)
    {
        if (text.Length == 0)
        {
            return;
        }
        // A page may take the queue over its byte limit, so a page larger than the limit still reaches a reader that keeps up.
        if (Volatile.Read(ref _queuedPages) >= limits.Pages || Interlocked.Read(ref _queuedBytes) >= limits.Bytes)
        {
            _queue.Writer.TryComplete();
            return;
        }
        Interlocked.Increment(ref _queuedPages);
        Interlocked.Add(ref _queuedBytes, text.Length);
        _queue.Writer.TryWrite(text);
    }

    public bool TryTake(out byte[] text)
    {
        if (!_queue.Reader.TryRead(out text!))
        {
            return false;
        }
        Interlocked.Decrement(ref _queuedPages);
        Interlocked.Add(ref _queuedBytes, -text.Length);
        return true;
    }
}

/// <summary>How far one connection may fall behind before it is cut off.</summary>
public sealed record SubscriberQueueLimits(int Pages, long Bytes);
