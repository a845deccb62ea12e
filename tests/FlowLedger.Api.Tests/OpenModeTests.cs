using FlowLedger.Api.Tests.Fixtures;

namespace FlowLedger.Api.Tests;

/// <summary>
/// SPEC §10: without a key the ledger runs open only on loopback (FirstStartTests sees it announced);
/// on any other address, or with a key it cannot use, it refuses to start and says why.
/// </summary>
public sealed class OpenModeTests(PostgresServer server)
{
    [Fact]
    public async Task Without_a_key_the_app_refuses_to_listen_beyond_loopback()
    {
        await using var app = AppProcess.Launch(await EnvironmentAsync(), bindTo: "0.0.0.0");

        await app.WaitForExitAsync(TimeSpan.FromSeconds(120));

        Assert.Equal(3, app.ExitCode);
        Assert.Contains("Refusing to serve an open ledger", app.Output);
        Assert.Contains("keys add", app.Output);
    }

    [Fact]
    public async Task A_key_configured_without_its_hash_stops_the_start()
    {
        var environment = new Dictionary<string, string?>(await EnvironmentAsync())
        {
            ["FlowLedger__ApiKeys__0__Name"] = "ops",
            ["FlowLedger__ApiKeys__0__Role"] = "admin",
            ["FlowLedger__ApiKeys__0__Sha256"] = "the-plain-key-by-mistake",
        };
        await using var app = AppProcess.Launch(environment);

        await app.WaitForExitAsync(TimeSpan.FromSeconds(120));

        Assert.Equal(3, app.ExitCode);
        Assert.Contains("API key 'ops' needs Sha256", app.Output);
    }

    [Fact]
    public async Task The_keys_command_prints_a_key_once_with_the_entry_holding_only_its_hash()
    {
        var (exitCode, output, errors) = await AppCommand.RunAsync(await server.CreateDatabaseAsync(), "keys", "add", "ci-bot", "--role", "writer");

        Assert.True(exitCode == 0, errors);
        var key = System.Text.RegularExpressions.Regex.Match(output, @"^  (flk_\S+)$", System.Text.RegularExpressions.RegexOptions.Multiline).Groups[1].Value;
        Assert.True(key.Length > 40, output);
        Assert.Contains($$"""{"Name":"ci-bot","Role":"writer","Sha256":"{{FlowLedger.Api.Security.ApiKeyRing.HashOf(key)}}"}""", output);
        Assert.Contains("FlowLedger__ApiKeys__N__Role=writer", output);
    }

    private async Task<IReadOnlyDictionary<string, string?>> EnvironmentAsync() => new Dictionary<string, string?>
    {
        ["ConnectionStrings__Marten"] = await server.CreateDatabaseAsync(),
        ["FlowLedger__LoadDemo"] = "false",
    };
}
