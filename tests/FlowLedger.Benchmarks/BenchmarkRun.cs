using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace FlowLedger.Benchmarks;

/// <summary>One run of the benchmark against a freshly started app.</summary>
public sealed class BenchmarkRun(BenchOptions options, GeneratedLedger ledger)
{
    private const double P1Target = 25_000;
    private const double P3TargetMs = 20;
    private const double P4P5TargetMs = 2000;
    private const double P6Target = 50_000;
    private const double P8TargetMiB = 1024;

    private readonly List<string[]> _rows = new();
    private readonly List<string> _notes = new();
    private readonly Random _rng = new(options.Seed + 1);
    private HttpClient _http = null!;
    private AppServer _server = null!;
    private bool _failed;

    public async Task<int> RunAsync(CancellationToken ct)
    {
        if (!OperatingSystem.IsLinux())
        {
            Console.Error.WriteLine("The benchmark reads /proc and runs on Linux only.");
            return 2;
        }
        var appDll = options.AppDll ?? DefaultAppDll();
        if (!File.Exists(appDll))
        {
            Console.Error.WriteLine($"No app at {appDll}: build it with `dotnet build -c Release src/FlowLedger.Api` or pass --app.");
            return 2;
        }
        var temp = Directory.CreateTempSubdirectory("flowledger-bench-").FullName;
        // The embedded cluster runs as the postgres user when we are root: it must be able to enter the folder.
        File.SetUnixFileMode(temp, (UnixFileMode)Convert.ToInt32("755", 8));
        var dataDirectory = options.ExistingData ?? (options.Connection is null ? Path.Combine(temp, "data") : null);
        var serverLog = Path.Combine(temp, "server.log");
        var port = options.Port > 0 ? options.Port : AppServer.FreePort(5201);
        Console.WriteLine($"App {appDll} on port {port}; temp folder {temp}");

        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(30) })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        MemorySampler? sampler = null;
        try
        {
            var startWatch = Stopwatch.StartNew();
            _server = await AppServer.StartAsync(appDll, port, dataDirectory, options.Connection, serverLog, ct);
            sampler = new MemorySampler(_server.Pid, _server.PostmasterPid);
            await _server.WaitHealthyAsync(_http, TimeSpan.FromMinutes(3), ct);
            Console.WriteLine($"App healthy after {startWatch.Elapsed.TotalSeconds:F1} s (PostgreSQL {_server.PostgresVersion}); server log {serverLog}");
            if (options.ExistingData is not null)
            {
                return await AnalyseExistingStoreAsync(sampler, ct);
            }
            if ((await GetJsonAsync("/api/events?limit=1", ct)).GetArrayLength() > 0)
            {
                throw new InvalidOperationException("The store already holds events: the benchmark needs an empty database.");
            }

            sampler.Phase = "P1 import";
            var imported = await ImportAsync(ct);
            sampler.Phase = "P1 copy";
            await CopyBaselineAsync(imported, ct);
            if (_failed)
            {
                return Finish(sampler, 1);
            }

            sampler.Phase = "reversals";
            var lastRecorded = await ReverseSomeAsync(ct);
            var firstRecorded = ParseInstant((await GetJsonAsync("/api/events?limit=1", ct))[0].GetProperty("recordedAt").GetString()!);
            var tail = await GetJsonAsync($"/api/events?afterSequence={Math.Max(0, ledger.Lines - 5)}&limit=100", ct);
            foreach (var e in tail.EnumerateArray())
            {
                var at = ParseInstant(e.GetProperty("recordedAt").GetString()!);
                lastRecorded = at > lastRecorded ? at : lastRecorded;
            }
            Console.WriteLine($"Recorded between {firstRecorded:O} and {lastRecorded:O}");

            sampler.Phase = "P3 balances";
            await BalanceLatencyAsync(firstRecorded, lastRecorded, ct);

            if (!options.SkipLive)
            {
                await LivePhasesAsync(sampler, ct);
            }

            sampler.Phase = "P4 trace, P5 loops";
            await AnalysisLatencyAsync(ct);

            if (!options.SkipRebuild)
            {
                sampler.Phase = "P6 rebuild";
                await RebuildAsync(appDll, temp, firstRecorded, lastRecorded, sampler, ct);
            }
            return Finish(sampler, _failed ? 1 : 0);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Console.Error.WriteLine($"BENCHMARK FAILED: {e}");
            if (sampler is not null)
            {
                Finish(sampler, 1);
            }
            return 1;
        }
        finally
        {
            if (sampler is not null)
            {
                await sampler.DisposeAsync();
            }
            if (_server is not null)
            {
                var stop = Stopwatch.StartNew();
                await _server.DisposeAsync();
                Console.WriteLine($"App stopped (SIGTERM) in {stop.Elapsed.TotalSeconds:F1} s");
            }
            _http.Dispose();
            if (options.Keep)
            {
                Console.WriteLine($"Kept {temp}");
            }
            else
            {
                DeleteFolder(temp);
            }
        }
    }

    /// <summary>
    /// P4, P5 and P8 on a store imported by an earlier run (<c>--existing-data</c>): importing 1,000,000 events takes over
    /// half an hour, while the reads under study take seconds. The store must hold what this run's generator would import.
    /// </summary>
    private async Task<int> AnalyseExistingStoreAsync(MemorySampler sampler, CancellationToken ct)
    {
        var companies = await GetJsonAsync("/api/companies", ct);
        if (companies.GetArrayLength() != ledger.Companies.Count ||
            !companies.EnumerateArray().Any(c => c.GetProperty("companyId").GetString() == ledger.Companies[0]))
        {
            throw new InvalidOperationException(
                $"The store at {options.ExistingData} does not hold the {ledger.Companies.Count:N0} companies of this run's ledger: pass the --events, --companies and --seed it was imported with.");
        }
        sampler.Phase = "P4 trace, P5 loops";
        await AnalysisLatencyAsync(ct);
        if (options.LiveOnExisting)
        {
            _notes.Add($"Measured on the existing store {options.ExistingData}: no import; P1, P3 and P6 left out; P2 and P7 after P4 and P5.");
            await LivePhasesAsync(sampler, ct);
        }
        else
        {
            _notes.Add($"Measured on the existing store {options.ExistingData}: no import, P1, P2, P3, P6 and P7 left out.");
        }
        return Finish(sampler, _failed ? 1 : 0);
    }

    // ---------------------------------------------------------------- P1

    private sealed record ChunkTiming(int Index, int Lines, int Deals, double Ms, double ServerCpu, double PostgresCpu);

    private async Task<int> ImportAsync(CancellationToken ct)
    {
        var chunks = (ledger.Lines + options.Chunk - 1) / options.Chunk;
        Console.WriteLine($"P1: importing {ledger.Lines:N0} lines in {chunks} chunks of up to {options.Chunk:N0} through POST /api/import …");
        var timings = new List<ChunkTiming>();
        await using var file = new FileStream(ledger.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        var serverCpu0 = ProcFs.CpuSeconds(_server.Pid);
        var postgresCpu0 = ClusterCpu();
        var harnessCpu0 = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
        var total = Stopwatch.StartNew();
        var imported = 0;
        for (var c = 0; c < chunks; c++)
        {
            var first = c * options.Chunk;
            var last = Math.Min(ledger.Lines, first + options.Chunk);
            var bytes = new byte[ledger.LineOffsets[last] - ledger.LineOffsets[first]];
            file.Position = ledger.LineOffsets[first];
            await file.ReadExactlyAsync(bytes, ct);

            var sCpu = ProcFs.CpuSeconds(_server.Pid);
            var pCpu = ClusterCpu();
            var chunkWatch = Stopwatch.StartNew();
            using var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
            using var response = await _http.PostAsync($"{_server.BaseUrl}/api/import", content, ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            chunkWatch.Stop();
            if (response.StatusCode != HttpStatusCode.OK)
            {
                ReportRefusedChunk(c, first, response.StatusCode, body);
                _failed = true;
                break;
            }
            var accepted = JsonDocument.Parse(body).RootElement.GetProperty("accepted").GetInt32();
            if (accepted != last - first)
            {
                Console.Error.WriteLine($"!!! chunk {c}: accepted {accepted} of {last - first} lines");
                _failed = true;
            }
            imported += accepted;
            var deals = ledger.LineStream[first..last].Distinct().Count();
            timings.Add(new ChunkTiming(c, last - first, deals, chunkWatch.Elapsed.TotalMilliseconds,
                ProcFs.CpuSeconds(_server.Pid) - sCpu, ClusterCpu() - pCpu));
            if (c % Math.Max(1, chunks / 20) == 0 || c == chunks - 1)
            {
                Console.WriteLine(
                    $"  chunk {c + 1}/{chunks}: {last - first:N0} lines, {deals:N0} streams, {chunkWatch.Elapsed.TotalSeconds:F2} s; " +
                    $"{imported:N0} imported in {total.Elapsed.TotalSeconds:F0} s ({imported / total.Elapsed.TotalSeconds:N0}/s)");
            }
        }
        if (_failed)
        {
            _rows.Add(["P1 import", $"REFUSED after {imported:N0} events", $"≥ {P1Target:N0} events/s", "no"]);
            return imported;
        }

        // Projections are inline: queryable when the import answers. The clock stops when a balance answers.
        var balance = await GetJsonAsync($"/api/companies/{ledger.Companies[0]}/balance", ct);
        total.Stop();
        var serverCpu = ProcFs.CpuSeconds(_server.Pid) - serverCpu0;
        var postgresCpu = ClusterCpu() - postgresCpu0;
        var harnessCpu = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds - harnessCpu0;
        var rate = imported / total.Elapsed.TotalSeconds;
        _rows.Add([$"P1 import through /api/import ({imported:N0} events, chunks of {options.Chunk:N0})",
            $"{rate:N0} events/s ({total.Elapsed.TotalSeconds:F1} s)", $"≥ {P1Target:N0} events/s", Met(rate >= P1Target, rate / P1Target)]);
        if (!balance.TryGetProperty("cash", out _))
        {
            _notes.Add("!!! the balance answered after the import has no cash section");
        }

        var allWatch = Stopwatch.StartNew();
        var all = await GetJsonAsync("/api/balances", ct);
        allWatch.Stop();
        var withCash = all.GetProperty("companies").EnumerateArray().Count(b => b.GetProperty("cash").EnumerateObject().Any());
        var companies = all.GetProperty("companies").GetArrayLength();
        _notes.Add($"After the import GET /api/balances answered in {allWatch.Elapsed.TotalMilliseconds:N0} ms: {companies:N0} companies, {withCash:N0} with non-empty cash totals.");
        if (withCash == 0)
        {
            Console.Error.WriteLine("!!! GET /api/balances has no cash totals after the import: projections are not queryable");
            _failed = true;
        }

        var wall = total.Elapsed.TotalSeconds;
        _notes.Add($"CPU during P1 ({wall:F1} s wall, 2 cores = {2 * wall:F1} core-s): app {serverCpu:F1} s, PostgreSQL {postgresCpu:F1} s, harness {harnessCpu:F1} s.");
        if (timings.Count >= 4)
        {
            var q = timings.Count / 4;
            string Quarter(IEnumerable<ChunkTiming> t) =>
                $"{t.Average(x => x.Ms) / 1000:F2} s/chunk, {t.Average(x => x.Deals):N0} streams/chunk, app CPU {t.Average(x => x.ServerCpu):F2} s, PostgreSQL CPU {t.Average(x => x.PostgresCpu):F2} s";
            _notes.Add($"Chunks, first quarter: {Quarter(timings.Take(q))}; last quarter: {Quarter(timings.Skip(timings.Count - q))}.");
        }
        if (options.ChunkLog is { } path)
        {
            await File.WriteAllLinesAsync(path,
                new[] { "chunk,lines,streams,ms,app_cpu_s,postgres_cpu_s" }.Concat(timings.Select(t =>
                    FormattableString.Invariant($"{t.Index},{t.Lines},{t.Deals},{t.Ms:F1},{t.ServerCpu:F2},{t.PostgresCpu:F2}"))), ct);
            _notes.Add($"Per-chunk timings in {path}.");
        }
        return imported;
    }

    private void ReportRefusedChunk(int chunk, int firstLine, HttpStatusCode status, string body)
    {
        Console.Error.WriteLine();
        Console.Error.WriteLine($"!!!!!!!! CHUNK {chunk} (lines {firstLine + 1}..) REFUSED with {(int)status}: nothing of it was recorded !!!!!!!!");
        try
        {
            var problem = JsonDocument.Parse(body).RootElement;
            Console.Error.WriteLine($"  {problem.GetProperty("detail").GetString()}");
            foreach (var line in problem.GetProperty("lines").EnumerateArray().Take(20))
            {
                var n = line.GetProperty("line").GetInt32();
                Console.Error.WriteLine($"  file line {firstLine + n} ({line.GetProperty("status").GetInt32()}): {line.GetProperty("detail").GetString()}");
            }
        }
        catch (Exception)
        {
            Console.Error.WriteLine(body.Length > 2000 ? body[..2000] : body);
        }
        Console.Error.WriteLine("The benchmark stops: every later chunk depends on this one.");
    }

    /// <summary>The same rows (event id, stream, type, JSON body) by binary COPY into a scratch table of the same database.</summary>
    private async Task CopyBaselineAsync(int imported, CancellationToken ct)
    {
        if (_failed)
        {
            return;
        }
        await using var connection = new NpgsqlConnection(_server.ConnectionString);
        await connection.OpenAsync(ct);
        await Exec(connection, "drop table if exists public.bench_copy; " +
                               "create table public.bench_copy (id uuid primary key, stream_id text not null, type text not null, data jsonb not null)", ct);
        var watch = Stopwatch.StartNew();
        ulong rows;
        using (var reader = new StreamReader(ledger.Path, Encoding.UTF8, false, 1 << 20))
        await using (var writer = await connection.BeginBinaryImportAsync(
                         "copy public.bench_copy (id, stream_id, type, data) from stdin (format binary)", ct))
        {
            var i = 0;
            while (await reader.ReadLineAsync(ct) is { } line)
            {
                await writer.StartRowAsync(ct);
                await writer.WriteAsync(ledger.LineIds[i], NpgsqlDbType.Uuid, ct);
                await writer.WriteAsync(ledger.Streams[ledger.LineStream[i]], NpgsqlDbType.Text, ct);
                await writer.WriteAsync(Generator.TypeNames[ledger.LineType[i]], NpgsqlDbType.Text, ct);
                await writer.WriteAsync(line, NpgsqlDbType.Jsonb, ct);
                i++;
            }
            rows = await writer.CompleteAsync(ct);
        }
        watch.Stop();
        await Exec(connection, "drop table public.bench_copy", ct);
        var copyRate = rows / watch.Elapsed.TotalSeconds;
        _rows.Add([$"P1 raw binary COPY of the same {rows:N0} rows", $"{copyRate:N0} rows/s ({watch.Elapsed.TotalSeconds:F1} s)", "(baseline)", ""]);
        var importRow = _rows.First(r => r[0].StartsWith("P1 import", StringComparison.Ordinal));
        var importRate = double.Parse(importRow[1].Split(' ')[0].Replace(",", ""), CultureInfo.InvariantCulture);
        _rows.Add(["P1 ratio import / COPY", $"{importRate / copyRate:P2} (COPY is {copyRate / importRate:F1}× faster)", "(reported)", ""]);
        if (imported != (int)rows)
        {
            _notes.Add($"!!! COPY wrote {rows} rows, the import {imported}");
        }
    }

    // ---------------------------------------------------------------- reversals

    private async Task<DateTimeOffset> ReverseSomeAsync(CancellationToken ct)
    {
        var last = DateTimeOffset.MinValue;
        if (options.Reversals <= 0)
        {
            return last;
        }
        var deals = ledger.ReversibleByDeal.Keys.Order().ToList();
        var done = 0;
        var refused = 0;
        var used = new HashSet<string>();
        var watch = Stopwatch.StartNew();
        for (var attempt = 0; done < options.Reversals && attempt < options.Reversals * 3 && deals.Count > 0; attempt++)
        {
            var deal = ledger.Streams[deals[_rng.Next(deals.Count)]];
            var events = await GetJsonAsync($"/api/events?dealId={deal}&limit=1000", ct);
            var candidates = events.EnumerateArray()
                .Where(e => Generator.IsReversible(e.GetProperty("type").GetString()!))
                .Select(e => e.GetProperty("eventId").GetString()!)
                .Where(id => !used.Contains(id))
                .ToList();
            if (candidates.Count == 0)
            {
                continue;
            }
            var target = candidates[_rng.Next(candidates.Count)];
            used.Add(target);
            using var content = new StringContent("{\"reason\":\"benchmark: booked twice\",\"source\":\"benchmark\"}", Encoding.UTF8, "application/json");
            using var response = await _http.PostAsync($"{_server.BaseUrl}/api/events/{target}/reversal", content, ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            if (response.StatusCode != HttpStatusCode.Created)
            {
                refused++;
                Console.Error.WriteLine($"!!! reversal of {target} in {deal} refused with {(int)response.StatusCode}: {body}");
                continue;
            }
            var at = ParseInstant(JsonDocument.Parse(body).RootElement.GetProperty("recordedAt").GetString()!);
            last = at > last ? at : last;
            done++;
        }
        _notes.Add($"{done} reversals through POST /api/events/{{id}}/reversal after the import ({refused} refused), {watch.Elapsed.TotalMilliseconds / Math.Max(1, done):F0} ms each including the lookup of a target; not counted in P1.");
        if (refused > 0)
        {
            _failed = true;
        }
        return last;
    }

    // ---------------------------------------------------------------- P3

    private (string Company, string AsOf, string KnownAt) RandomPoint(DateTimeOffset first, DateTimeOffset last)
    {
        var company = ledger.Companies[_rng.Next(ledger.Companies.Count)];
        var asOf = Generator.FirstDay.AddDays(_rng.Next(Generator.SpanDays + 1)).ToString("yyyy-MM-dd");
        var span = (last - first).Ticks;
        var knownAt = first.AddTicks((long)(_rng.NextDouble() * span) / 10 * 10);
        return (company, asOf, FormatInstant(knownAt));
    }

    private string BalanceUrl((string Company, string AsOf, string KnownAt) p) =>
        $"/api/companies/{p.Company}/balance?asOf={p.AsOf}&knownAt={Uri.EscapeDataString(p.KnownAt)}";

    private async Task BalanceLatencyAsync(DateTimeOffset first, DateTimeOffset last, CancellationToken ct)
    {
        const int warmup = 50;
        for (var i = 0; i < warmup; i++)
        {
            await GetStringAsync(BalanceUrl(RandomPoint(first, last)), ct);
        }
        var samples = new double[options.Queries];
        for (var i = 0; i < samples.Length; i++)
        {
            var url = BalanceUrl(RandomPoint(first, last));
            var watch = Stopwatch.StartNew();
            await GetStringAsync(url, ct);
            samples[i] = watch.Elapsed.TotalMilliseconds;
        }
        Array.Sort(samples);
        double P(double q) => samples[Math.Min(samples.Length - 1, (int)Math.Ceiling(q * samples.Length) - 1)];
        var p99 = P(0.99);
        _rows.Add([$"P3 balance at random (asOf, knownAt), {samples.Length:N0} queries", $"p50 {P(0.5):F1} ms, p95 {P(0.95):F1} ms, p99 {p99:F1} ms (max {samples[^1]:F1})",
            $"p99 ≤ {P3TargetMs} ms", Met(p99 <= P3TargetMs, P3TargetMs / p99)]);
    }

    // ---------------------------------------------------------------- P2, P7

    public const int P2Rate = 500;
    private const double P2P50TargetMs = 5;
    private const double P2P99TargetMs = 25;
    public const int P7Rate = 200;
    private const double P7P99TargetMs = 100;

    private async Task LivePhasesAsync(MemorySampler sampler, CancellationToken ct)
    {
        // Announced as they start, so a profiler can be attached to the app for the phase it is meant to see.
        Console.WriteLine($"P2: {P2Rate} commands/s for {options.LiveSeconds} s …");
        sampler.Phase = "P2 commands";
        await CommandLatencyAsync(ct);
        Console.WriteLine($"P7: {options.Subscribers:N0} subscribers, {P7Rate} commands/s for {options.LiveSeconds} s …");
        sampler.Phase = "P7 live";
        await LiveDeliveryAsync(ct);
    }

    private LiveLoad Load => new(_http, _server.BaseUrl, ledger.Companies[0], ledger.Companies[1]);

    private async Task CommandLatencyAsync(CancellationToken ct)
    {
        await Load.SendAsync("warm", 50, TimeSpan.FromSeconds(2), sentAt: null, ct);
        var cpu = CpuMeter.Start("app", _server.Pid, ClusterCpu);
        var (latency, refused) = await Load.SendAsync("p2", P2Rate, TimeSpan.FromSeconds(options.LiveSeconds), sentAt: null, ct);
        _notes.Add($"P2: {cpu.PerCommand(latency.Count)}");
        var met = latency.At(0.5) <= P2P50TargetMs && latency.At(0.99) <= P2P99TargetMs;
        _rows.Add([$"P2 single command over HTTP, {P2Rate}/s open-loop for {options.LiveSeconds} s", latency.Describe(),
            $"p50 ≤ {P2P50TargetMs} ms, p99 ≤ {P2P99TargetMs} ms", Met(met, P2P99TargetMs / latency.At(0.99))]);
        Fail(refused, "P2");
    }

    private async Task LiveDeliveryAsync(CancellationToken ct)
    {
        await using var subscribers = await LiveLoad.Subscribers.OpenAsync(_server.BaseUrl, options.Subscribers, ct);
        var cpu = CpuMeter.Start("app", _server.Pid, ClusterCpu);
        var (latency, refused) = await Load.SendAsync("p7", P7Rate, TimeSpan.FromSeconds(options.LiveSeconds), subscribers.SentAt, ct);
        // Let the last events reach every subscriber before the count is taken.
        await Task.Delay(TimeSpan.FromSeconds(5), ct);
        _notes.Add($"P7: {cpu.PerCommand(latency.Count)}, delivery to the subscribers included");
        var delivery = subscribers.Latencies;
        var sinceRecorded = subscribers.SinceRecorded;
        var expected = (long)subscribers.Connected * subscribers.SentAt.Count;
        _rows.Add([$"P7 commit → SSE delivery, {subscribers.Connected:N0} subscribers, {P7Rate} commands/s for {options.LiveSeconds} s, from the recorded instant",
            sinceRecorded.Describe(), $"p99 ≤ {P7P99TargetMs} ms", Met(sinceRecorded.At(0.99) <= P7P99TargetMs, P7P99TargetMs / sinceRecorded.At(0.99))]);
        _rows.Add(["P7 the same deliveries of every subscriber, from the send of the command", delivery.Describe(), "(reported)", ""]);
        _notes.Add($"P7: {delivery.Count:N0} of {expected:N0} expected deliveries arrived within 5 s of the last command; the commands themselves answered in {latency.Describe()}. " +
                   "The target's row times a delivery from the event's recordedAt, which the recorder takes just before its commit on this machine's clock " +
                   $"(an upper bound of commit → delivery), on one subscriber in {LiveLoad.Subscribers.RecordedSampleEvery}; the next row times every delivery from the " +
                   "moment its command was sent, so it also holds the command's own wait. The harness shares the 2 cores with the server.");
        Fail(refused, "P7");
    }

    private void Fail(IReadOnlyDictionary<int, int> refusedByStatus, string phase)
    {
        if (refusedByStatus.Count > 0)
        {
            _notes.Add($"{phase}: commands refused, by status: {string.Join(", ", refusedByStatus.OrderBy(r => r.Key).Select(r => $"{r.Key} × {r.Value}"))}.");
            _failed = true;
        }
    }

    // ---------------------------------------------------------------- P4, P5

    /// <summary>The busiest source (the first company, where the skew puts most money) under each policy, then loops.</summary>
    private async Task AnalysisLatencyAsync(CancellationToken ct)
    {
        var source = ledger.Companies[0];
        foreach (var policy in new[] { "proportional", "fifo", "lifo" })
        {
            await TimeOneAsync($"P4 trace of {source}, {policy}", $"/api/trace?source={source}&policy={policy}", ct);
        }
        await TimeOneAsync("P5 loops, cash, maxLength 4, limit 50", "/api/loops?layer=cash&maxLength=4&limit=50", ct);
        await TimeOneAsync("P5 loops, commitment, maxLength 4, limit 50", "/api/loops?layer=commitment&maxLength=4&limit=50", ct);
    }

    private async Task TimeOneAsync(string measure, string url, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var body = await GetStringAsync(url, ct);
        var ms = watch.Elapsed.TotalMilliseconds;
        var truncated = body.Contains("\"truncated\":true", StringComparison.Ordinal) ? " (truncated)" : "";
        _rows.Add([measure, $"{ms / 1000:F2} s{truncated}", $"≤ {P4P5TargetMs / 1000:F0} s", Met(ms <= P4P5TargetMs, P4P5TargetMs / ms)]);
    }

    // ---------------------------------------------------------------- P6

    private async Task RebuildAsync(string appDll, string temp, DateTimeOffset first, DateTimeOffset last, MemorySampler sampler, CancellationToken ct)
    {
        // Balances to compare before and after: random points, and the latest state.
        var points = Enumerable.Range(0, 30).Select(_ => BalanceUrl(RandomPoint(first, last)))
            .Concat(ledger.Companies.Take(5).Select(c => $"/api/companies/{c}/balance?knownAt={Uri.EscapeDataString(FormatInstant(last.AddSeconds(1)))}"))
            .ToList();
        var before = new List<string>();
        foreach (var url in points)
        {
            before.Add(await GetStringAsync(url, ct));
        }

        await using var connection = new NpgsqlConnection(_server.ConnectionString);
        await connection.OpenAsync(ct);
        var events = Convert.ToInt64(await Scalar(connection, "select count(*) from flowledger.mt_events", ct), CultureInfo.InvariantCulture);
        var rowsBefore = Convert.ToInt64(await Scalar(connection, "select count(*) from flowledger.fl_postings", ct), CultureInfo.InvariantCulture);
        var insertedBefore = await PostingsInsertedAsync(connection, ct);

        // The rows as the inline projection left them, to compare with what the rebuild writes.
        await Exec(connection, "drop table if exists public.bench_postings_before; " +
                               "create table public.bench_postings_before as select * from flowledger.fl_postings", ct);

        // The CLI's own start-up (host, Marten, Wolverine), measured by a command that does no work.
        var list = await RunCliAsync(appDll, ["projections", "list"], Path.Combine(temp, "projections-list.log"), null, ct);
        var rebuild = await RunCliAsync(appDll, ["projections", "rebuild"], Path.Combine(temp, "projections-rebuild.log"), sampler, ct);
        await Task.Delay(1500, ct); // PostgreSQL's statistics are flushed about once a second
        var rowsAfter = Convert.ToInt64(await Scalar(connection, "select count(*) from flowledger.fl_postings", ct), CultureInfo.InvariantCulture);
        var inserted = await PostingsInsertedAsync(connection, ct) - insertedBefore;
        if (rebuild.ExitCode != 0)
        {
            Console.Error.WriteLine($"!!! `projections rebuild` exited with {rebuild.ExitCode}; see {Path.Combine(temp, "projections-rebuild.log")}:");
            Console.Error.WriteLine(rebuild.Tail);
            _failed = true;
        }

        const string columns = "event_id, ordinal, known_from, known_to, stream_key, effective_on, layer, asset, from_party, to_party, quantity";
        var onlyBefore = Convert.ToInt64(await Scalar(connection,
            $"select count(*) from (select {columns} from public.bench_postings_before except all select {columns} from flowledger.fl_postings) d", ct), CultureInfo.InvariantCulture);
        var onlyAfter = Convert.ToInt64(await Scalar(connection,
            $"select count(*) from (select {columns} from flowledger.fl_postings except all select {columns} from public.bench_postings_before) d", ct), CultureInfo.InvariantCulture);
        if (onlyBefore + onlyAfter > 0)
        {
            var shown = new List<string>();
            await using (var sample = new NpgsqlCommand(
                $"(select 'inline only' as side, {columns} from (select {columns} from public.bench_postings_before except all select {columns} from flowledger.fl_postings) a order by event_id, ordinal, known_from limit 4) " +
                $"union all (select 'rebuild only', {columns} from (select {columns} from flowledger.fl_postings except all select {columns} from public.bench_postings_before) b order by event_id, ordinal, known_from limit 4)",
                connection))
            await using (var reader = await sample.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    shown.Add(string.Join(" ", Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "null" : reader.GetValue(i) switch
                    {
                        DateTime t => t.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff", CultureInfo.InvariantCulture),
                        var v => Convert.ToString(v, CultureInfo.InvariantCulture),
                    })));
                }
            }
            // The same postings may be cut into more recorded-time intervals by one writer than by the other, and rows
            // closed at the instant they opened are seen by no query: leave those out, merge each event's rows of
            // identical content into one interval, and compare again.
            const string content = "event_id, ordinal, stream_key, effective_on, layer, asset, from_party, to_party, quantity";
            string Merged(string table) =>
                $"select {content}, min(known_from), case when bool_or(known_to is null) then null else max(known_to) end from {table} " +
                $"where known_to is null or known_to > known_from group by {content}";
            var mergedDiff = Convert.ToInt64(await Scalar(connection,
                $"select (select count(*) from ({Merged("public.bench_postings_before")} except all {Merged("flowledger.fl_postings")}) a) + " +
                $"(select count(*) from ({Merged("flowledger.fl_postings")} except all {Merged("public.bench_postings_before")}) b)", ct), CultureInfo.InvariantCulture);
            _notes.Add($"{(mergedDiff > 0 ? "!!! " : "")}fl_postings is not row for row what the inline projection wrote: {onlyBefore:N0} rows only in the inline table, " +
                       $"{onlyAfter:N0} only in the rebuilt one; leaving out rows closed at the instant they opened (seen by no query) and merging each event's rows of identical content over recorded time, " +
                       $"{mergedDiff:N0} rows still differ. Sample: " + string.Join(" ; ", shown));
        }
        else
        {
            _notes.Add("fl_postings after the rebuild is row for row the table the inline projection wrote.");
        }
        await Exec(connection, "drop table public.bench_postings_before", ct);

        var mismatches = 0;
        for (var i = 0; i < points.Count; i++)
        {
            var after = await GetStringAsync(points[i], ct);
            if (after != before[i])
            {
                mismatches++;
                if (mismatches <= 3)
                {
                    Console.Error.WriteLine($"!!! balance changed by the rebuild: {points[i]}\n  before {Trim(before[i])}\n  after  {Trim(after)}");
                }
            }
        }
        if (mismatches > 0)
        {
            _failed = true;
        }

        // The CLI reports the rebuild's own time ("Finished rebuild in N ms"); the wall time adds the host's start-up.
        var own = System.Text.RegularExpressions.Regex.Match(rebuild.Output, @"Finished rebuild in (\d+) ms") is { Success: true } m
            ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) / 1000
            : rebuild.Seconds;
        var rate = events / own;
        _rows.Add([$"P6 rebuild of every projection (`projections rebuild`, {events:N0} events)",
            $"{rate:N0} events/s ({own:F1} s by the CLI's own clock; {rebuild.Seconds:F1} s wall = {events / rebuild.Seconds:N0}/s, of which ~{list.Seconds:F1} s is the CLI's start-up)",
            $"≥ {P6Target:N0} events/s", Met(rate >= P6Target, rate / P6Target)]);
        foreach (var finished in System.Text.RegularExpressions.Regex.Matches(rebuild.Output, @"Finished rebuilding (\S+) in (\d+) ms"))
        {
            _notes.Add($"The CLI: \"{((System.Text.RegularExpressions.Match)finished).Value}\".");
        }
        _notes.Add($"Rebuild: fl_postings {rowsBefore:N0} rows before, {rowsAfter:N0} after, {inserted:N0} inserted by the rebuild; " +
                   $"{points.Count - mismatches}/{points.Count} sampled balances identical after it; the CLI's peak RSS {sampler.PeakExtraHwm / 1048576.0:N0} MiB.");
    }

    private static async Task<long> PostingsInsertedAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await Exec(connection, "select pg_stat_clear_snapshot()", ct);
        return Convert.ToInt64(await Scalar(connection,
            "select coalesce(n_tup_ins, 0) from pg_stat_user_tables where schemaname = 'flowledger' and relname = 'fl_postings'", ct) ?? 0L,
            CultureInfo.InvariantCulture);
    }

    private sealed record CliRun(int ExitCode, double Seconds, string Tail, string Output);

    private async Task<CliRun> RunCliAsync(string appDll, string[] arguments, string logPath, MemorySampler? sampler, CancellationToken ct)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(appDll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(appDll);
        foreach (var a in arguments)
        {
            info.ArgumentList.Add(a);
        }
        info.Environment["ConnectionStrings__Marten"] = _server.ConnectionString;
        info.Environment["FlowLedger__LoadDemo"] = "false";
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        var lines = new List<string>();
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        sampler?.Watch(process.Id);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (lines) lines.Add(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (lines) lines.Add(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await process.WaitForExitAsync(ct);
        watch.Stop();
        sampler?.Watch(null);
        await File.WriteAllLinesAsync(logPath, lines, ct);
        var tail = string.Join('\n', lines.Where(l => !string.IsNullOrWhiteSpace(l)).TakeLast(6));
        Console.WriteLine($"`{string.Join(' ', arguments)}`: exit {process.ExitCode} after {watch.Elapsed.TotalSeconds:F1} s");
        return new CliRun(process.ExitCode, watch.Elapsed.TotalSeconds, tail, string.Join('\n', lines));
    }

    // ---------------------------------------------------------------- results

    private int Finish(MemorySampler sampler, int code)
    {
        sampler.Final();
        var peakMiB = Math.Max(sampler.PeakRss, sampler.LastHwm) / 1048576.0;
        _rows.Add(["P8 peak RSS of the app process (VmHWM, whole run)", $"{peakMiB:N0} MiB", $"≤ {P8TargetMiB:N0} MiB", Met(peakMiB <= P8TargetMiB, P8TargetMiB / peakMiB)]);
        _notes.Add("Peak RSS of the app by phase (sampled every 100 ms): " +
                   string.Join(", ", sampler.PeakRssByPhase.Select(p => $"{p.Key} {p.Value / 1048576.0:N0} MiB")) +
                   (sampler.PeakPostgresPss > 0 ? $"; its PostgreSQL (all processes, PSS, sampled every 1 s) peaked at {sampler.PeakPostgresPss / 1048576.0:N0} MiB." : "."));

        Console.WriteLine();
        Console.WriteLine($"FlowLedger benchmark — {ledger.Lines:N0} events, {ledger.Companies.Count:N0} companies, seed {options.Seed}, " +
                          $"{Environment.ProcessorCount} cores, {TotalMemoryGiB():F0} GiB, PostgreSQL {_server.PostgresVersion}, .NET {Environment.Version}");
        Console.WriteLine();
        Console.WriteLine("| measure | result | target | met? |");
        Console.WriteLine("|---|---|---|---|");
        foreach (var row in _rows)
        {
            Console.WriteLine($"| {string.Join(" | ", row)} |");
        }
        Console.WriteLine();
        foreach (var note in _notes)
        {
            Console.WriteLine($"* {note}");
        }
        if (_failed)
        {
            Console.WriteLine();
            Console.WriteLine("!!! THE RUN HAD FAILURES (see the messages above): its numbers are not a valid result.");
        }
        return code;
    }

    private static string Met(bool met, double ratio) =>
        met ? "yes" : $"**no**: {ratio:P0} of target";

    // ---------------------------------------------------------------- helpers

    private double ClusterCpu() => _server.PostmasterPid() is { } pm ? ProcFs.ClusterCpuSeconds(pm) : 0;

    private async Task<string> GetStringAsync(string path, CancellationToken ct)
    {
        using var response = await _http.GetAsync(_server.BaseUrl + path, ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"GET {path} answered {(int)response.StatusCode}: {Trim(body)}");
        }
        return body;
    }

    private async Task<JsonElement> GetJsonAsync(string path, CancellationToken ct) =>
        JsonDocument.Parse(await GetStringAsync(path, ct)).RootElement;

    private static async Task Exec(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(ct);
    }

    private static async Task<object?> Scalar(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync(ct);
    }

    private static DateTimeOffset ParseInstant(string s) => DateTimeOffset.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    private static string FormatInstant(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    private static string Trim(string s) => s.Length > 400 ? s[..400] + "…" : s;

    private static double TotalMemoryGiB()
    {
        var line = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1048576.0;
    }

    private static string DefaultAppDll()
    {
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
            ? "Debug"
            : "Release";
        if (configuration == "Debug")
        {
            Console.WriteLine("!!! the harness runs from a Debug build, so it starts the Debug app: use -c Release for real numbers");
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FlowLedger.sln")))
            {
                return Path.Combine(dir.FullName, "src", "FlowLedger.Api", "bin", configuration, "net10.0", "FlowLedger.Api.dll");
            }
        }
        throw new InvalidOperationException("FlowLedger.sln not found above the harness; pass --app.");
    }

    private static void DeleteFolder(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"Could not delete {path}: {e.Message}");
        }
    }
}
