using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FlowLedger.Testing;

/// <summary>
/// The built app (<c>dotnet FlowLedger.Api.dll</c>) as its own process on a free loopback port, as a user
/// starts it, stopped with SIGTERM like Ctrl+C. Its standard output and error are kept for assertions.
/// </summary>
public sealed class AppProcess : IAsyncDisposable
{
    private static readonly TimeSpan HealthyWithin = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan StoppedWithin = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private AppProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
        Http = new HttpClient { BaseAddress = baseAddress };
    }

    public Uri BaseAddress { get; }

    public HttpClient Http { get; }

    public string Output
    {
        get { lock (_output) { return _output.ToString(); } }
    }

    /// <summary>Starts the app with these environment variables set (an empty value clears one) and waits until it is healthy.</summary>
    public static async Task<AppProcess> StartAsync(IReadOnlyDictionary<string, string> environment, CancellationToken ct)
    {
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet", [typeof(Program).Assembly.Location, "--urls", $"http://127.0.0.1:{port}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        var process = Process.Start(start)!;
        var app = new AppProcess(process, new Uri($"http://127.0.0.1:{port}"));
        process.OutputDataReceived += (_, e) => app.Append(e.Data);
        process.ErrorDataReceived += (_, e) => app.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await app.WaitUntilHealthyAsync(ct);
        return app;
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

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            Process.Start("kill", ["-TERM", _process.Id.ToString()])!.WaitForExit();
            await _process.WaitForExitAsync().WaitAsync(StoppedWithin);
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
