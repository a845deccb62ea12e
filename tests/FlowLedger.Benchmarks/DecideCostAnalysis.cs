using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using FlowLedger.Domain;
using NodaTime;
using NodaTime.Serialization.SystemTextJson;

namespace FlowLedger.Benchmarks;

/// <summary>
/// Offline, without a server or database: replays the generated file chunk by chunk through the same
/// domain code the app's write path and postings projection run (a DealDecider per deal and request,
/// which refolds the deal's whole history for a backdated event; DealBook folds of each touched deal
/// before and after every chunk), and
/// times those folds. It also checks every line against the rules, so a generator bug shows here
/// before a server run. The figures are CPU time of the pure domain work, on one core.
/// </summary>
public static class DecideCostAnalysis
{
    private static readonly JsonSerializerOptions Json = CreateOptions();

    private static JsonSerializerOptions CreateOptions()
    {
        var o = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };
        o.Converters.Insert(0, new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false));
        o.ConfigureForNodaTime(DateTimeZoneProviders.Tzdb);
        return o;
    }

    public static void Run(GeneratedLedger ledger, int chunk)
    {
        var parse = Stopwatch.StartNew();
        var events = new List<(string Stream, ILedgerEvent Event)>(ledger.Lines);
        foreach (var line in File.ReadLines(ledger.Path))
        {
            var node = JsonNode.Parse(line)!.AsObject();
            var type = EventCatalog.Types[node["type"]!.GetValue<string>()];
            node.Remove("type");
            node.Remove("dealId");
            events.Add((ledger.Streams[ledger.LineStream[events.Count]], (ILedgerEvent)node.Deserialize(type, Json)!));
        }
        Console.WriteLine($"Parsed {events.Count:N0} lines in {parse.Elapsed.TotalSeconds:F1} s");

        var stored = new Dictionary<string, List<RecordedEntry>>(StringComparer.Ordinal);
        var decide = new Stopwatch();
        var project = new Stopwatch();
        long fetched = 0, postingRows = 0, refused = 0, streamsTouched = 0;
        var chunks = (events.Count + chunk - 1) / chunk;
        var perChunk = new List<(double Decide, double Project, long Fetched)>();
        for (var c = 0; c < chunks; c++)
        {
            var first = c * chunk;
            var last = Math.Min(events.Count, first + chunk);
            var now = Instant.FromUnixTimeSeconds(1_800_000_000 + c);
            var d0 = decide.Elapsed.TotalSeconds;
            var p0 = project.Elapsed.TotalSeconds;
            var f0 = fetched;

            // The write path: each deal's stored history once per request, then every line decided against it
            // (DealDecider: a line that sorts last is applied to the running book, a backdated one refolds the deal).
            var pending = new Dictionary<string, DealDecider>(StringComparer.Ordinal);
            decide.Start();
            for (var i = first; i < last; i++)
            {
                var (stream, e) = events[i];
                if (e is CompanyRegistered)
                {
                    continue;
                }
                if (!pending.TryGetValue(stream, out var decider))
                {
                    var history = stored.TryGetValue(stream, out var s) ? s : new List<RecordedEntry>();
                    fetched += history.Count;
                    decider = new DealDecider(history);
                    pending[stream] = decider;
                }
                var candidate = new RecordedEntry(Guid.NewGuid(), long.MaxValue / 2 + (i - first), now, e);
                var breaks = decider.Accept(candidate);
                if (breaks.Count > 0)
                {
                    refused++;
                    if (refused <= 10)
                    {
                        Console.Error.WriteLine($"!!! line {i + 1} ({stream}) breaks a rule: {breaks[0].Message}");
                    }
                }
            }
            decide.Stop();
            streamsTouched += pending.Count;

            // The inline postings projection: per deal, its stored stream again, folded before and after.
            project.Start();
            foreach (var (stream, _) in pending)
            {
                var before = stored.TryGetValue(stream, out var s) ? s : new List<RecordedEntry>();
                fetched += before.Count;
                var was = PostingsByEvent(before);
                var after = new List<RecordedEntry>(before);
                for (var i = first; i < last; i++)
                {
                    if (events[i].Stream == stream)
                    {
                        after.Add(new RecordedEntry(Guid.NewGuid(), i + 1, now, events[i].Event));
                    }
                }
                var isNow = PostingsByEvent(after);
                foreach (var (id, postings) in isNow)
                {
                    if (!was.TryGetValue(id, out var old) || !old.SequenceEqual(postings))
                    {
                        postingRows += postings.Count;
                    }
                }
                stored[stream] = after;
            }
            project.Stop();
            perChunk.Add((decide.Elapsed.TotalSeconds - d0, project.Elapsed.TotalSeconds - p0, fetched - f0));
        }

        Console.WriteLine();
        Console.WriteLine($"Offline replay of {events.Count:N0} lines in {chunks} chunks of {chunk:N0} ({refused} refused lines):");
        Console.WriteLine($"  decide (DealDecider per deal and request, as LedgerRecorder): {decide.Elapsed.TotalSeconds:F1} s CPU");
        Console.WriteLine($"  projection folds (two DealBook folds per touched deal per chunk): {project.Elapsed.TotalSeconds:F1} s CPU");
        Console.WriteLine($"  deal streams loaded: {streamsTouched:N0} per phase ({2 * streamsTouched:N0} FetchStreamAsync calls), {fetched:N0} stored events read back");
        Console.WriteLine($"  posting rows opened (inserts): {postingRows:N0}");
        var q = Math.Max(1, perChunk.Count / 4);
        Console.WriteLine($"  per chunk, first quarter: decide {perChunk.Take(q).Average(x => x.Decide):F2} s, folds {perChunk.Take(q).Average(x => x.Project):F2} s, {perChunk.Take(q).Average(x => x.Fetched):N0} events read back");
        Console.WriteLine($"  per chunk, last quarter:  decide {perChunk.TakeLast(q).Average(x => x.Decide):F2} s, folds {perChunk.TakeLast(q).Average(x => x.Project):F2} s, {perChunk.TakeLast(q).Average(x => x.Fetched):N0} events read back");
        var top = ledger.DealSizes.OrderDescending().Take(10).ToList();
        var sumSquares = ledger.DealSizes.Sum(s => (double)s * s);
        Console.WriteLine($"  largest deals: {string.Join(", ", top)}; Σ size² / 2 = {sumSquares / 2:N0} fold steps if every event re-folds its whole deal");
        if (refused > 0)
        {
            Console.Error.WriteLine($"!!! {refused} generated lines break the ledger's rules: the generator is wrong");
        }
    }

    private static Dictionary<Guid, IReadOnlyList<Posting>> PostingsByEvent(IReadOnlyList<RecordedEntry> history)
    {
        var book = new DealBook();
        return PointInTime.Latest.Visible(history).ToDictionary(e => e.EventId, e => book.Apply((IDealEvent)e.Event).Postings);
    }
}
