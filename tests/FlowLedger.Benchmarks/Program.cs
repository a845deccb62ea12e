using System.Diagnostics;
using System.Globalization;
using FlowLedger.Benchmarks;

// The SPEC §12 benchmark: P1 import (beside a raw COPY), P2 command latency, P3 balance latency, P4 trace, P5 loops, P6 rebuild, P7 live delivery, P8 server RSS.
// Usage: dotnet run -c Release --project tests/FlowLedger.Benchmarks -- --events 1000000 --companies 1000 --seed 42
if (args is [Baseline.ServeFlag, var servePort])
{
    return await Baseline.ServeAsync(int.Parse(servePort, CultureInfo.InvariantCulture));
}
var options = BenchOptions.Parse(args);
if (options is null)
{
    Console.WriteLine(BenchOptions.Usage);
    return 2;
}

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cts.Cancel();
};
if (options.Baseline)
{
    return await Baseline.RunAsync(options, cts.Token);
}

var ownsNdjson = options.Ndjson is null;
var ndjson = options.Ndjson ?? Path.Combine(Path.GetTempPath(), $"flowledger-bench-{Environment.ProcessId}.ndjson");
var watch = Stopwatch.StartNew();
var ledger = Generator.Write(ndjson, options.Events, options.Companies, options.Seed, options.Backdate);
Console.WriteLine(
    $"Generated {ledger.Lines:N0} lines ({new FileInfo(ndjson).Length / 1048576.0:F1} MiB) in {watch.Elapsed.TotalSeconds:F1} s: " +
    $"{ledger.Companies.Count:N0} companies, {ledger.Deals:N0} deals (largest {ledger.LargestDeal:N0} events), " +
    $"{ledger.Backdated:N0} backdated events; file {ndjson}");
Console.WriteLine("  by type: " + string.Join(", ", ledger.CountsByType.OrderByDescending(c => c.Value).Select(c => $"{c.Key} {c.Value:N0}")));
Console.WriteLine($"  deal sizes: {ledger.DealSizes.Count(s => s >= 1000):N0} deals of 1,000+ events, {ledger.DealSizes.Count(s => s < 10):N0} of fewer than 10; " +
                  $"Σ size²/2 = {ledger.DealSizes.Sum(s => (double)s * s) / 2:N0} (fold steps when every event re-folds its deal)");

try
{
    if (options.GenerateOnly)
    {
        return 0;
    }
    if (options.Analyze)
    {
        DecideCostAnalysis.Run(ledger, options.Chunk);
        return 0;
    }
    return await new BenchmarkRun(options, ledger).RunAsync(cts.Token);
}
catch (OperationCanceledException) when (cts.IsCancellationRequested)
{
    Console.Error.WriteLine("Cancelled; the app was stopped.");
    return 130;
}
finally
{
    if (ownsNdjson)
    {
        File.Delete(ndjson);
    }
}

public sealed record BenchOptions
{
    public int Events { get; init; } = 1_000_000;
    public int Companies { get; init; } = 1_000;
    public int Seed { get; init; } = 42;
    public string? Ndjson { get; init; }
    public int Chunk { get; init; } = 10_000;
    public string? Connection { get; init; }
    public string? AppDll { get; init; }
    public int Port { get; init; }
    public int Queries { get; init; } = 1_000;
    public int Reversals { get; init; } = 100;
    public double Backdate { get; init; } = 0.05;
    public bool GenerateOnly { get; init; }
    public bool Analyze { get; init; }
    public bool Baseline { get; init; }
    public bool Keep { get; init; }
    public bool SkipRebuild { get; init; }
    public bool SkipLive { get; init; }
    public int LiveSeconds { get; init; } = 20;
    public int Subscribers { get; init; } = 1_000;
    public string? ChunkLog { get; init; }
    public string? ExistingData { get; init; }
    public bool LiveOnExisting { get; init; }

    public const string Usage = """
        FlowLedger benchmark (SPEC §12): P1 import vs raw COPY, P3 balance latency, P6 rebuild, P8 server RSS.

          dotnet run -c Release --project tests/FlowLedger.Benchmarks -- [options]

          --events N        lines to generate and import, registrations included (default 1000000)
          --companies N     companies, registered first (default 1000)
          --seed N          generator seed; the same seed gives byte-identical NDJSON (default 42)
          --ndjson PATH     keep the generated NDJSON at PATH (default: a temp file, deleted)
          --chunk N         lines per POST /api/import, each all-or-nothing (default 10000)
          --queries N       P3 balance queries after a warm-up (default 1000)
          --reversals N     reversals through POST /api/events/{id}/reversal after the import (default 100)
          --backdate F      share of deal events dated before their deal's latest (default 0.05)
          --connection CS   use this PostgreSQL (an empty database) instead of the app's embedded one
          --app PATH        FlowLedger.Api.dll to run (default: src/FlowLedger.Api/bin/Release/net10.0)
          --port N          HTTP port (default: the first free one from 5201)
          --chunk-log PATH  write per-chunk timings as CSV
          --skip-rebuild    leave out P6
          --skip-live       leave out P2 and P7
          --live-seconds N  how long P2 and P7 each send commands (default 20)
          --subscribers N   SSE subscribers during P7 (default 1000)
          --keep            keep the temp folder (server log, data)
          --existing-data PATH  start the app on this data folder (a store this harness imported before, with the
                            same --events, --companies and --seed) and measure only P4, P5 and P8: no import
          --live-on-existing  with --existing-data: P2 and P7 too, after P4 and P5. They record their commands
                            (700 a second of --live-seconds) in that store: point --existing-data at a copy
          --generate-only   write the NDJSON (with --ndjson) and stop
          --analyze         no server: time the write path's decide fold and the projection's folds offline
          --baseline        no app: P2's and P7's load (--live-seconds, --subscribers) against a server that only answers
                            and broadcasts, without a database: what this machine and harness allow any server
        """;

    public static BenchOptions? Parse(string[] args)
    {
        var o = new BenchOptions();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            o = args[i] switch
            {
                "--events" => o with { Events = int.Parse(Next()) },
                "--companies" => o with { Companies = int.Parse(Next()) },
                "--seed" => o with { Seed = int.Parse(Next()) },
                "--ndjson" => o with { Ndjson = Path.GetFullPath(Next()) },
                "--chunk" => o with { Chunk = int.Parse(Next()) },
                "--queries" => o with { Queries = int.Parse(Next()) },
                "--reversals" => o with { Reversals = int.Parse(Next()) },
                "--backdate" => o with { Backdate = double.Parse(Next(), CultureInfo.InvariantCulture) },
                "--connection" => o with { Connection = Next() },
                "--app" => o with { AppDll = Path.GetFullPath(Next()) },
                "--port" => o with { Port = int.Parse(Next()) },
                "--chunk-log" => o with { ChunkLog = Path.GetFullPath(Next()) },
                "--existing-data" => o with { ExistingData = Path.GetFullPath(Next()) },
                "--live-on-existing" => o with { LiveOnExisting = true },
                "--skip-rebuild" => o with { SkipRebuild = true },
                "--skip-live" => o with { SkipLive = true },
                "--live-seconds" => o with { LiveSeconds = int.Parse(Next()) },
                "--subscribers" => o with { Subscribers = int.Parse(Next()) },
                "--keep" => o with { Keep = true },
                "--generate-only" => o with { GenerateOnly = true },
                "--analyze" => o with { Analyze = true },
                "--baseline" => o with { Baseline = true },
                _ => null,
            };
            if (o is null)
            {
                return null;
            }
        }
        // Without a store to run on, the flag would be ignored without a word.
        return o.LiveOnExisting && o.ExistingData is null ? null : o;
    }
}
