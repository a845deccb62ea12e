using System.Buffers;
using System.Text;
using FlowLedger.Api.Ledger;
using Microsoft.AspNetCore.Http.Features;
using Wolverine.Http;

namespace FlowLedger.Api.Live;

/// <summary>
/// GET /api/subscriptions/stream?topics= — server-sent events (SPEC §8). With <c>Last-Event-ID</c> the stream
/// first replays every update after that sequence, then goes live; nothing is lost across a reconnect.
/// </summary>
public static class SubscriptionsStreamEndpoint
{
    [WolverineGet("/api/subscriptions/stream", OperationId = "SubscribeStream")]
    [Tags("Subscriptions")]
    public static async Task Get(HttpContext context, LiveFeed feed, IConfiguration configuration, CancellationToken ct)
    {
        var topics = TopicSet.Parse(context.Request.Query["topics"]);
        var lastEventId = LastEventIdOf(context.Request);
        var settings = SubscriptionSettings.From(configuration);

        var subscriber = new LiveSubscriber(topics, settings.QueueLimits);
        var liveAfter = await feed.JoinAsync(subscriber, ct);
        try
        {
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            context.Response.ContentType = "text/event-stream";
            context.Response.Headers.CacheControl = "no-cache";
            context.Response.Headers["X-Accel-Buffering"] = "no";
            var stream = new SseWriter(context.Response);
            await stream.RetryAsync(settings.ReconnectAfter, ct);

            if (lastEventId is { } after && after < liveAfter)
            {
                // A page of events none of the topics follow has nothing to send, and no flush to wait for.
                await foreach (var page in feed.CatchUpAsync(after, liveAfter, topics, ct).Where(p => p.Updates.Count > 0))
                {
                    await stream.SendAsync(ServerSentEvents.Encode(page.Updates), ct);
                }
            }
            await StreamLiveAsync(stream, subscriber, settings, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The client went away.
        }
        finally
        {
            feed.Leave(subscriber);
        }
    }

    /// <summary>Text written to a response before it is flushed, when several pages are waiting.</summary>
    private const int FlushBytes = 16 * 1024;

    private const long RearmAfterMilliseconds = 1000;

    private static async Task StreamLiveAsync(SseWriter stream, LiveSubscriber subscriber, SubscriptionSettings settings, CancellationToken ct)
    {
        // One timer per connection rather than a new one per page, re-armed at a wake-up only if it was armed over a
        // second before: a busy feed wakes every connection hundreds of times a second, and each re-arm takes the timer
        // queue's lock. The heartbeat then comes after 14 to 15 s of silence instead of exactly 15.
        var heartbeat = CancellationTokenSource.CreateLinkedTokenSource(ct);
        long? armedAt = null;
        try
        {
            while (true)
            {
                if (armedAt is not { } armed || Environment.TickCount64 - armed >= RearmAfterMilliseconds)
                {
                    heartbeat.CancelAfter(settings.Heartbeat);
                    armedAt = Environment.TickCount64;
                }
                bool more;
                try
                {
                    more = await subscriber.Pages.WaitToReadAsync(heartbeat.Token);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    heartbeat.Dispose();
                    heartbeat = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    armedAt = null;
                    await stream.CommentAsync("heartbeat", ct);
                    continue;
                }
                if (!more)
                {
                    // Cut off for falling behind: the client reconnects with Last-Event-ID and catches up from the store.
                    await stream.CommentAsync("overflow: reconnect with Last-Event-ID to catch up", ct);
                    return;
                }
                // Whatever queued meanwhile goes out with few flushes, but never much more than a flush's worth is copied
                // into the response ahead of the client: a flush waits for a slow reader, the queue holds the rest shared.
                var unflushed = 0;
                while (subscriber.TryTake(out var text))
                {
                    stream.Write(text);
                    unflushed += text.Length;
                    if (unflushed >= FlushBytes)
                    {
                        await stream.FlushAsync(ct);
                        unflushed = 0;
                    }
                }
                if (unflushed > 0)
                {
                    await stream.FlushAsync(ct);
                }
            }
        }
        finally
        {
            heartbeat.Dispose();
        }
    }

    /// <summary>The header a browser's EventSource sends on reconnect, or <c>lastEventId</c> for clients that cannot set it.</summary>
    private static long? LastEventIdOf(HttpRequest request)
    {
        var text = request.Headers["Last-Event-ID"].FirstOrDefault() ?? request.Query["lastEventId"].FirstOrDefault();
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }
        return long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var sequence)
            ? sequence
            : throw new MalformedRequestException($"Last-Event-ID '{text}' is not an event sequence.");
    }
}

/// <summary>How the live stream behaves; <c>FlowLedger:Subscriptions</c> in configuration.</summary>
public sealed record SubscriptionSettings(TimeSpan Heartbeat, TimeSpan ReconnectAfter, SubscriberQueueLimits QueueLimits)
{
    public static SubscriptionSettings From(IConfiguration configuration)
    {
        var section = configuration.GetSection("FlowLedger:Subscriptions");
        return new SubscriptionSettings(
            TimeSpan.FromSeconds(section.GetValue("HeartbeatSeconds", 15.0)),
            TimeSpan.FromSeconds(section.GetValue("ReconnectSeconds", 1.0)),
            new SubscriberQueueLimits(section.GetValue("QueuedPages", 1_000), section.GetValue("QueuedBytes", 4L * 1024 * 1024)));
    }
}

/// <summary>
/// The text/event-stream format of a page of updates. Updates caused by one event share its sequence; only the
/// last of them carries the <c>id:</c>, so a client cut off half-way through them resumes before the first.
/// </summary>
public static class ServerSentEvents
{
    public static byte[] Encode(IReadOnlyList<LiveUpdate> updates)
    {
        var text = new StringBuilder();
        for (var i = 0; i < updates.Count; i++)
        {
            var update = updates[i];
            if (i == updates.Count - 1 || updates[i + 1].Sequence != update.Sequence)
            {
                text.Append("id: ").Append(update.Sequence).Append('\n');
            }
            text.Append("event: ").Append(update.Kind).Append('\n');
            text.Append("data: ").Append(update.Json).Append("\n\n");
        }
        return Encoding.UTF8.GetBytes(text.ToString());
    }
}

/// <summary>Writes to one SSE response: pages already encoded, comments and the retry interval.</summary>
internal sealed class SseWriter(HttpResponse response)
{
    public Task RetryAsync(TimeSpan after, CancellationToken ct) => SendAsync(Encoding.UTF8.GetBytes($"retry: {(long)after.TotalMilliseconds}\n\n"), ct);

    public Task CommentAsync(string comment, CancellationToken ct) => SendAsync(Encoding.UTF8.GetBytes($": {comment}\n\n"), ct);

    public void Write(byte[] text) => response.BodyWriter.Write(text);

    public async Task FlushAsync(CancellationToken ct) => await response.BodyWriter.FlushAsync(ct);

    public async Task SendAsync(byte[] text, CancellationToken ct)
    {
        Write(text);
        await FlushAsync(ct);
    }
}
