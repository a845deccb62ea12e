using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FlowLedger.Testing;

/// <summary>
/// The built app (<c>dotnet FlowLedger.Api.dll</c>) as its own process, as a user starts it: stopped with
/// SIGTERM like Ctrl+C, or killed outright by tests of crashes. Its standard output and error are kept for assertions.
/// </summary>
public sealed class AppProcess : IAsyncDisposable
{
    private static readonly TimeSpan HealthyWithin = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan StoppedWithin = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private AppProcess(Process process, int port)
    {
        _process = process;
        Port = port;
        BaseAddress = new Uri($"http://127.0.0.1:{port}");
        Http = new HttpClient { BaseAddress = BaseAddress };
    }

    public Uri BaseAddress { get; }

    public HttpClient Http { get; }

    public int Port { get; }

    public string Output
    {
        get { lock (_output) { return _output.ToString(); } }
    }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Starts the app without waiting for it, for tests of how it refuses to start.</summary>
    /// <param name="environment">Settings for the app; a null value removes an inherited variable.</param>
    /// <param name="bindTo">The address to listen on, loopback unless a test means otherwise.</param>
    /// <param name="port">A port to reuse, such as the one of a killed instance; a free one otherwise.</param>
    public static AppProcess Launch(IReadOnlyDictionary<string, string?> environment, string bindTo = "127.0.0.1", int? port = null)
    {
        var chosen = port ?? FreePort();
        var start = new ProcessStartInfo("dotnet", [typeof(Program).Assembly.Location, "--urls", $"http://{bindTo}:{chosen}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (name, value) in environment)
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }
        var process = Process.Start(start)!;
        var app = new AppProcess(process, chosen);
        process.OutputDataReceived += (_, e) => app.Append(e.Data);
        process.ErrorDataReceived += (_, e) => app.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return app;
    }

    /// <summary>Starts the app on loopback and waits until it is healthy.</summary>
    public static async Task<AppProcess> StartAsync(IReadOnlyDictionary<string, string?> environment, CancellationToken ct, int? port = null)
    {
        var app = Launch(environment, port: port);
        try
        {
            await app.WaitUntilHealthyAsync(ct);
            return app;
        }
        catch
        {
            // The caller never gets the app to dispose, so a start that fails must not leave it running.
            await app.DisposeAsync();
            throw;
        }
    }

    private void Append(string? line)
    {
        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    private async Task WaitUntilHealthyAsync(CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + HealthyWithin;
        while (DateTime.UtcNow < deadline && !_process.HasExited)
        {
            try
            {
                if ((await Http.GetAsync("/health", ct)).StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            await Task.Delay(250, ct);
        }
        throw new InvalidOperationException($"The app did not become healthy:\n{Output}");
    }

    public Task WaitForExitAsync(TimeSpan timeout) => _process.WaitForExitAsync().WaitAsync(timeout);

    /// <summary>SIGKILL: no shutdown code runs, as when the machine loses power or the OOM killer strikes.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await WaitForExitAsync(TimeSpan.FromSeconds(30));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            Process.Start("kill", ["-TERM", _process.Id.ToString()])!.WaitForExit();
            await WaitForExitAsync(StoppedWithin);
        }
        Http.Dispose();
        _process.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
