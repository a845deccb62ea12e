using System.Diagnostics;

namespace FlowLedger.Benchmarks;

/// <summary>Reads /proc: resident memory (VmRSS, VmHWM), proportional set size and CPU time of processes.</summary>
public static class ProcFs
{
    private const double ClockTicks = 100.0; // USER_HZ on Linux

    /// <summary>(VmRSS, VmHWM) in bytes, or null when the process is gone.</summary>
    public static (long Rss, long Hwm)? Memory(int pid)
    {
        try
        {
            long rss = 0, hwm = 0;
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    rss = Kb(line);
                }
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    hwm = Kb(line);
                }
            }
            return (rss, hwm);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Proportional set size in bytes (shared pages split between their users), or 0.</summary>
    public static long Pss(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/smaps_rollup"))
            {
                if (line.StartsWith("Pss:", StringComparison.Ordinal))
                {
                    return Kb(line);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return 0;
    }

    /// <summary>CPU seconds of a process (user + system); with its reaped children's when asked.</summary>
    public static double CpuSeconds(int pid, bool withReapedChildren = false)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // fields[0] is field 3 (state): utime is field 14, stime 15, cutime 16, cstime 17.
            var ticks = long.Parse(fields[11]) + long.Parse(fields[12]);
            if (withReapedChildren)
            {
                ticks += long.Parse(fields[13]) + long.Parse(fields[14]);
            }
            return ticks / ClockTicks;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return 0;
        }
    }

    public static List<int> ChildrenOf(int parent)
    {
        var children = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }
            try
            {
                var stat = File.ReadAllText($"{dir}/stat");
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1]) == parent)
                {
                    children.Add(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
            }
        }
        return children;
    }

    /// <summary>CPU seconds of a PostgreSQL cluster: the postmaster, its reaped backends and its live ones.</summary>
    public static double ClusterCpuSeconds(int postmaster) =>
        CpuSeconds(postmaster, withReapedChildren: true) + ChildrenOf(postmaster).Sum(c => CpuSeconds(c));

    public static long ClusterPss(int postmaster) => Pss(postmaster) + ChildrenOf(postmaster).Sum(Pss);

    private static long Kb(string line) => long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
}

/// <summary>Samples the server's RSS (and its PostgreSQL's PSS) in the background for the whole run, peak per phase.</summary>
public sealed class MemorySampler : IAsyncDisposable
{
    private readonly int _server;
    private readonly Func<int?> _postmaster;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly object _gate = new();
    private string _phase = "start";
    private int? _extra;

    public MemorySampler(int serverPid, Func<int?> postmaster)
    {
        _server = serverPid;
        _postmaster = postmaster;
        _loop = Task.Run(LoopAsync);
    }

    public Dictionary<string, long> PeakRssByPhase { get; } = new();
    public long PeakRss { get; private set; }
    public long LastHwm { get; private set; }
    public long PeakPostgresPss { get; private set; }
    public long PeakExtraHwm { get; private set; }

    public string Phase
    {
        set
        {
            lock (_gate)
            {
                _phase = value;
            }
        }
    }

    /// <summary>Another process to watch for a while (the rebuild CLI); its peak is kept apart.</summary>
    public void Watch(int? pid)
    {
        lock (_gate)
        {
            _extra = pid;
        }
    }

    private async Task LoopAsync()
    {
        var tick = 0;
        while (!_stop.IsCancellationRequested)
        {
            Sample(tick++ % 10 == 0);
            try
            {
                await Task.Delay(100, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private void Sample(bool withPostgres)
    {
        lock (_gate)
        {
            if (ProcFs.Memory(_server) is { } m)
            {
                PeakRss = Math.Max(PeakRss, m.Rss);
                LastHwm = Math.Max(LastHwm, m.Hwm);
                PeakRssByPhase[_phase] = Math.Max(PeakRssByPhase.GetValueOrDefault(_phase), m.Rss);
            }
            if (_extra is { } extra && ProcFs.Memory(extra) is { } e)
            {
                PeakExtraHwm = Math.Max(PeakExtraHwm, e.Hwm);
            }
            if (withPostgres && _postmaster() is { } pm)
            {
                PeakPostgresPss = Math.Max(PeakPostgresPss, ProcFs.ClusterPss(pm));
            }
        }
    }

    /// <summary>Takes a last sample (VmHWM is the kernel's own peak) and stops.</summary>
    public async ValueTask DisposeAsync()
    {
        Sample(true);
        await _stop.CancelAsync();
        await _loop;
    }

    public void Final() => Sample(true);
}

/// <summary>
/// CPU used by a server, its PostgreSQL (when it has one) and this harness over a phase, per command. On a machine shared
/// with other work it says more about the cost of a command than the latencies do, which grow with the queue.
/// </summary>
public sealed record CpuMeter(string ServerName, int ServerPid, Func<double>? PostgresCpu, double Server, double Postgres, double Harness, long StartedAt)
{
    public static CpuMeter Start(string serverName, int serverPid, Func<double>? postgresCpu) =>
        new(serverName, serverPid, postgresCpu, ProcFs.CpuSeconds(serverPid), postgresCpu?.Invoke() ?? 0, HarnessCpu(), Stopwatch.GetTimestamp());

    public string PerCommand(int commands)
    {
        var wall = Stopwatch.GetElapsedTime(StartedAt).TotalSeconds;
        var server = ProcFs.CpuSeconds(ServerPid) - Server;
        var postgres = PostgresCpu is null ? (double?)null : PostgresCpu() - Postgres;
        var harness = HarnessCpu() - Harness;
        return $"CPU over {wall:F1} s (2 cores = {2 * wall:F1} core-s): {ServerName} {server:F1} s" +
               (postgres is { } total ? $", PostgreSQL {total:F1} s" : "") + $", harness {harness:F1} s; " +
               $"per command {ServerName} {1000 * server / commands:F2} ms" +
               (postgres is { } spent ? $", PostgreSQL {1000 * spent / commands:F2} ms" : "");
    }

    private static double HarnessCpu() => Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
}
