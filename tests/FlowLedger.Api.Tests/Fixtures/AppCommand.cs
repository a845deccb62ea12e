using System.Diagnostics;

namespace FlowLedger.Api.Tests.Fixtures;

/// <summary>Runs one of the app's CLI commands as a user would: <c>dotnet FlowLedger.Api.dll &lt;command&gt;</c>.</summary>
public static class AppCommand
{
    /// <returns>The exit code, what the command wrote to stdout, and what went to stderr (logs, errors).</returns>
    public static async Task<(int ExitCode, string Output, string Errors)> RunAsync(string connectionString, params string[] arguments)
    {
        // The app's own build: JasperFx looks for commands in every assembly beside the app, test assemblies included.
        var appDll = typeof(Program).Assembly.Location.Replace(Path.Combine("tests", "FlowLedger.Api.Tests"), Path.Combine("src", "FlowLedger.Api"));
        Assert.True(File.Exists(appDll), appDll);
        var start = new ProcessStartInfo("dotnet", [appDll, .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["ConnectionStrings__Marten"] = connectionString, ["FlowLedger__LoadDemo"] = "false" },
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (process.ExitCode, await output, await error);
    }
}
