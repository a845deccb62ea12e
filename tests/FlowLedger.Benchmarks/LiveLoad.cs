using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;

namespace FlowLedger.Benchmarks;

/// <summary>Latencies in milliseconds, sorted, with the percentiles the report shows.</summary>
public sealed class LatencySample(IEnumerable<double> milliseconds)
{
    private readonly double[] _sorted = milliseconds.Order().ToArray();

    public int Count => _sorted.Length;

    public double At(double quantile) =>
        _sorted.Length == 0 ? double.NaN : _sorted[Math.Min(_sorted.Length - 1, Math.Max(0, (int)Math.Ceiling(quantile * _sorted.Length) - 1))];

    public string Describe() => $"p50 {At(0.5):F1} ms, p95 {At(0.95):F1} ms, p99 {At(0.99):F1} ms (max {At(1):F1}; {Count:N0} samples)";
}

/// <summary>
/// P2 and P7 (SPEC §12): single commands sent open-loop at a fixed rate — each on its schedule, whether or
/// not earlier ones have answered — and, for P7, SSE subscribers timing each event until it reached them: from the
/// moment its command was sent, and, on a sample of them, from its recorded instant.
/// </summary>
public sealed class LiveLoad(HttpClient http, string baseUrl, string payer, string payee)
{
    /// <summary>Sends <paramref name="rate"/> commands a second for <paramref name="duration"/>; answers each one's latency.</summary>
    /// <param name="sentAt">Where to note when each command (by its description) was sent, for the subscribers to time it.</param>
    public async Task<(LatencySample Latency, IReadOnlyDictionary<int, int> RefusedByStatus)> SendAsync(
        string label, int rate, TimeSpan duration, IDictionary<string, long>? sentAt, CancellationToken ct)
    {
        var total = (int)(rate * duration.TotalSeconds);
        var latencies = new ConcurrentBag<double>();
        var refused = new ConcurrentDictionary<int, int>();
        var clock = Stopwatch.StartNew();
        var inFlight = new List<Task>(total);
        for (var i = 0; i < total; i++)
        {
            // Read once: a second reading could pass the due time and ask Task.Delay for a negative wait.
            var wait = TimeSpan.FromSeconds((double)i / rate) - clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, ct);
            }
            inFlight.Add(SendOneAsync(i));
        }
        await Task.WhenAll(inFlight);
        return (new LatencySample(latencies), refused);

        async Task SendOneAsync(int index)
        {
            var tag = $"{label}-{index}";
            var body = $$"""{"type":"ServicesPaid","payer":"{{payer}}","payee":"{{payee}}","amount":{"amount":1,"currency":"USD"},"description":"{{tag}}","effectiveOn":"2025-12-31"}""";
            var started = Stopwatch.GetTimestamp();
            if (sentAt is not null)
            {
                sentAt[tag] = started;
            }
            // One deal per command: P2 times a command, not a queue of writers retrying on one stream.
            var deal = $"bench-{label}-{index}";
            using var response = await http.PostAsync($"{baseUrl}/api/deals/{deal}/events",
                new StringContent(body, Encoding.UTF8, "application/json"), ct);
            latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            if (response.StatusCode != HttpStatusCode.Created)
            {
                refused.AddOrUpdate((int)response.StatusCode, 1, (_, count) => count + 1);
            }
        }
    }

    /// <summary>
    /// Opens <paramref name="count"/> SSE connections on the events topic and records, for every event
    /// each of them receives whose description is in <paramref name="sentAt"/> (filled while they listen),
    /// the time since its command was sent; and, on every <see cref="RecordedSampleEvery"/>th connection, the time
    /// since the instant the event was recorded.
    /// </summary>
    public sealed class Subscribers : IAsyncDisposable
    {
        /// <summary>
        /// The recorded instant is the recorder's clock just before it commits, on the same machine as the harness, so the
        /// time since it bounds commit → delivery from above without the command's wait for a core, a connection and its
        /// reads, which the time since the send includes. Parsing it costs the harness, which shares the cores with the
        /// server, so only one connection in this many does.
        /// </summary>
        public const int RecordedSampleEvery = 10;

        // Its own client: a connection per subscriber, held open for the whole phase.
        private readonly HttpClient _http = new(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue }) { Timeout = Timeout.InfiniteTimeSpan };
        private readonly CancellationTokenSource _stop = new();
        private readonly List<Task> _readers = [];
        private readonly ConcurrentBag<double> _latencies = new();
        private readonly ConcurrentBag<double> _sinceRecorded = new();
        private readonly ConcurrentDictionary<string, long> _sentAt = new();
        private int _connected;

        public int Connected => _connected;

        public IDictionary<string, long> SentAt => _sentAt;

        public static async Task<Subscribers> OpenAsync(string baseUrl, int count, CancellationToken ct)
        {
            var subscribers = new Subscribers();
            for (var i = 0; i < count; i++)
            {
                subscribers._readers.Add(subscribers.ReadAsync($"{baseUrl}/api/subscriptions/stream?topics=events", sinceRecorded: i % RecordedSampleEvery == 0));
            }
            var deadline = Stopwatch.StartNew();
            while (subscribers._connected < count && deadline.Elapsed < TimeSpan.FromMinutes(2))
            {
                await Task.Delay(100, ct);
            }
            return subscribers;
        }

        public LatencySample Latencies => new(_latencies);

        public LatencySample SinceRecorded => new(_sinceRecorded);

        private static readonly byte[] DescriptionMarker = "\"description\":\""u8.ToArray();
        private static readonly byte[] RecordedAtMarker = "\"recordedAt\":\""u8.ToArray();

        /// <summary>
        /// Scans the stream's bytes for the descriptions of the events, without making a string of each line: the
        /// harness shares the cores with the server, and 1,000 subscribers read hundreds of thousands of lines a second.
        /// </summary>
        private async Task ReadAsync(string url, bool sinceRecorded)
        {
            var sentAt = _sentAt.GetAlternateLookup<ReadOnlySpan<char>>();
            try
            {
                using var response = await _http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, _stop.Token);
                await using var body = await response.Content.ReadAsStreamAsync(_stop.Token);
                Interlocked.Increment(ref _connected);
                var buffer = new byte[64 * 1024];
                var filled = 0;
                while (true)
                {
                    if (filled == buffer.Length)
                    {
                        Array.Resize(ref buffer, buffer.Length * 2);
                    }
                    var read = await body.ReadAsync(buffer.AsMemory(filled), _stop.Token);
                    if (read == 0)
                    {
                        return;
                    }
                    filled += read;
                    // Only whole lines: a description cut by the end of the read is found after the next one.
                    var complete = buffer.AsSpan(0, filled).LastIndexOf((byte)'\n') + 1;
                    Scan(buffer.AsSpan(0, complete), sentAt, sinceRecorded);
                    buffer.AsSpan(complete, filled - complete).CopyTo(buffer);
                    filled -= complete;
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                // Stopped at the end of the phase.
            }
        }

        private void Scan(ReadOnlySpan<byte> lines, ConcurrentDictionary<string, long>.AlternateLookup<ReadOnlySpan<char>> sentAt, bool sinceRecorded)
        {
            Span<char> tag = stackalloc char[64];
            while (lines.IndexOf(DescriptionMarker) is var at and >= 0)
            {
                // An event's recordedAt comes before the description inside its data, so the nearest one before is its own.
                var recordedAt = sinceRecorded ? RecordedAtBefore(lines[..at], tag) : null;
                lines = lines[(at + DescriptionMarker.Length)..];
                var end = lines.IndexOf((byte)'"');
                if (end < 0)
                {
                    return;
                }
                var length = end <= tag.Length ? System.Text.Encoding.UTF8.GetChars(lines[..end], tag) : 0;
                if (length > 0 && sentAt.TryGetValue(tag[..length], out var sent))
                {
                    _latencies.Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
                    if (recordedAt is { } recorded)
                    {
                        _sinceRecorded.Add((DateTime.UtcNow - recorded).TotalMilliseconds);
                    }
                }
                lines = lines[(end + 1)..];
            }
        }

        private static DateTime? RecordedAtBefore(ReadOnlySpan<byte> eventText, Span<char> text)
        {
            var at = eventText.LastIndexOf(RecordedAtMarker);
            if (at < 0)
            {
                return null;
            }
            var value = eventText[(at + RecordedAtMarker.Length)..];
            var end = value.IndexOf((byte)'"');
            if (end < 0 || end > text.Length)
            {
                return null;
            }
            var length = Encoding.UTF8.GetChars(value[..end], text);
            return DateTime.TryParse(text[..length], CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var instant)
                ? instant
                : null;
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await Task.WhenAll(_readers);
            _stop.Dispose();
            _http.Dispose();
        }
    }
}
