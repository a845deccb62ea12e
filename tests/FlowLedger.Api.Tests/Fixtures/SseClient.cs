using System.Text;
using System.Text.Json.Nodes;

namespace FlowLedger.Api.Tests.Fixtures;

/// <summary>One server-sent event as a browser's EventSource sees it: <c>Id</c> is the last id seen so far.</summary>
public sealed record SseMessage(string? Id, string Kind, JsonNode Data);

/// <summary>Reads a text/event-stream response message by message, comments (heart-beats) apart.</summary>
public sealed class SseClient : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;
    private readonly List<string> _comments = [];

    private SseClient(HttpResponseMessage response, Stream body)
    {
        _response = response;
        _reader = new StreamReader(body, Encoding.UTF8);
    }

    public HttpResponseMessage Response => _response;

    /// <summary>The comment lines read so far (heart-beats, the overflow notice).</summary>
    public IReadOnlyList<string> Comments => _comments;

    /// <summary>The id of the last message that carried one: what EventSource sends as Last-Event-ID.</summary>
    public string? LastEventId { get; private set; }

    public static async Task<SseClient> ConnectAsync(HttpClient http, string topics, string? lastEventId = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/subscriptions/stream?topics={Uri.EscapeDataString(topics)}");
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        return new SseClient(response, await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken));
    }

    /// <summary>The next message, or null when the server ended the stream.</summary>
    public async Task<SseMessage?> NextAsync(TimeSpan? timeout = null, CancellationToken ct = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken, ct);
        deadline.CancelAfter(timeout ?? TimeSpan.FromSeconds(30));
        string? kind = null;
        var data = new StringBuilder();
        while (await _reader.ReadLineAsync(deadline.Token) is { } line)
        {
            if (line.Length == 0)
            {
                if (kind is not null)
                {
                    return new SseMessage(LastEventId, kind, JsonNode.Parse(data.ToString())!);
                }
                continue;
            }
            var separator = line.IndexOf(':');
            var (field, value) = separator < 0 ? (line, "") : (line[..separator], line[(separator + 1)..].TrimStart(' '));
            switch (field)
            {
                case "": _comments.Add(value); break;
                case "id": LastEventId = value; break;
                case "event": kind = value; break;
                case "data": data.Append(value); break;
            }
        }
        return null;
    }

    /// <summary>Reads messages until one of <paramref name="kind"/> arrives, passing over the others.</summary>
    public async Task<SseMessage> NextOfKindAsync(string kind)
    {
        while (await NextAsync() is { } message)
        {
            if (message.Kind == kind)
            {
                return message;
            }
        }
        throw new InvalidOperationException($"The stream ended before an '{kind}' message.");
    }

    /// <summary>
    /// Reads until the event of <paramref name="sequence"/>: a new subscriber may first get events committed
    /// just before it joined, which the feed had not delivered yet.
    /// </summary>
    public async Task<SseMessage> EventOfSequenceAsync(long sequence)
    {
        while (true)
        {
            var message = await NextOfKindAsync("event");
            var received = message.Data["sequence"]!.GetValue<long>();
            Assert.True(received <= sequence, $"Event {sequence} never came: {received} came first.");
            if (received == sequence)
            {
                return message;
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        return ValueTask.CompletedTask;
    }
}
