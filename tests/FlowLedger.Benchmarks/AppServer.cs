using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Npgsql;

namespace FlowLedger.Benchmarks;

/// <summary>
/// The real app as a separate process (<c>dotnet FlowLedger.Api.dll --urls …</c>), with its own
/// embedded PostgreSQL in a fresh data folder unless a connection string is given.
/// </summary>
public sealed partial class AppServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly TaskCompletionSource<Match> _postgresLine = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private AppServer(Process process, StreamWriter log, string baseUrl, string? dataDirectory)
    {
        _process = process;
        _log = log;
        BaseUrl = baseUrl;
        DataDirectory = dataDirectory;
    }

    public string BaseUrl { get; }
    public string? DataDirectory { get; }
    public int Pid => _process.Id;
    public string ConnectionString { get; private set; } = "";
    public string PostgresVersion { get; private set; } = "external";

    public static async Task<AppServer> StartAsync(string appDll, int port, string? dataDirectory, string? connection, string logPath, CancellationToken ct)
    {
        var baseUrl = $"http://127.0.0.1:{port}";
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(appDll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(appDll);
        info.ArgumentList.Add("--urls");
        info.ArgumentList.Add(baseUrl);
        info.Environment["FlowLedger__LoadDemo"] = "false";
        // The benchmark is one client on loopback firing as fast as it can: no rate limit may pace it.
        info.Environment["FlowLedger__Limits__PermitsPerSecond"] = "1000000";
        info.Environment["FlowLedger__Limits__Burst"] = "1000000";
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        if (connection is not null)
        {
            info.Environment["ConnectionStrings__Marten"] = connection;
        }
        else
        {
            info.Environment["FLOWLEDGER_DATA"] = dataDirectory!;
            info.Environment.Remove("ConnectionStrings__Marten");
        }

        var log = new StreamWriter(logPath) { AutoFlush = true };
        var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start the app.");
        var server = new AppServer(process, log, baseUrl, dataDirectory) { ConnectionString = connection ?? "" };
        process.OutputDataReceived += (_, e) => server.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => server.OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        if (connection is null)
        {
            var started = await Task.WhenAny(server._postgresLine.Task, process.WaitForExitAsync(ct), Task.Delay(TimeSpan.FromMinutes(2), ct));
            if (started != server._postgresLine.Task)
            {
                throw new InvalidOperationException($"The app did not report its embedded PostgreSQL; see {logPath}.");
            }
            var m = server._postgresLine.Task.Result;
            server.PostgresVersion = m.Groups["version"].Value;
            var password = (await File.ReadAllTextAsync(Path.Combine(dataDirectory!, "password"), ct)).Trim();
            server.ConnectionString = new NpgsqlConnectionStringBuilder
            {
                Host = m.Groups["host"].Value, Port = int.Parse(m.Groups["port"].Value), Database = m.Groups["db"].Value,
                Username = "postgres", Password = password,
            }.ConnectionString;
        }
        return server;
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_log)
        {
            _log.WriteLine(line);
        }
        if (PostgresLine().Match(line) is { Success: true } m)
        {
            _postgresLine.TrySetResult(m);
        }
    }

    public Task WaitHealthyAsync(HttpClient http, TimeSpan timeout, CancellationToken ct) =>
        WaitHealthyAsync(_process, BaseUrl, http, timeout, ct);

    /// <summary>Polls <c>{baseUrl}/health</c> until it answers 2xx; fails when the process exits first or the time is up.</summary>
    public static async Task WaitHealthyAsync(Process process, string baseUrl, HttpClient http, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The server exited with code {process.ExitCode} before it was healthy.");
            }
            try
            {
                using var response = await http.GetAsync($"{baseUrl}/health", ct);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The server was not healthy in time.");
            }
            await Task.Delay(250, ct);
        }
    }

    /// <summary>The postmaster's pid, from postmaster.pid of the embedded cluster (null for an external server).</summary>
    public int? PostmasterPid()
    {
        if (DataDirectory is null)
        {
            return null;
        }
        var file = Path.Combine(DataDirectory, "pgdata", "postmaster.pid");
        try
        {
            return File.Exists(file) && int.TryParse(File.ReadLines(file).FirstOrDefault(), out var pid) ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>SIGTERM, so the app stops its PostgreSQL; SIGKILL only if it does not stop within a minute.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _ = Kill(_process.Id, 15);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                Console.Error.WriteLine("The app did not stop within 60 s of SIGTERM; killing it.");
                _process.Kill(entireProcessTree: true);
            }
        }
        lock (_log)
        {
            _log.Dispose();
        }
        _process.Dispose();
    }

    public static int FreePort(int from)
    {
        for (var port = from; port < from + 2000; port++)
        {
            try
            {
                var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                listener.Stop();
                return port;
            }
            catch (SocketException)
            {
            }
        }
        throw new InvalidOperationException($"No free port from {from}.");
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    [GeneratedRegex(@"Embedded PostgreSQL (?<version>\S+) serves database (?<db>\S+) on (?<host>[0-9.]+):(?<port>\d+)")]
    private static partial Regex PostgresLine();
}
