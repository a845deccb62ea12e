using System.Text.Json;
using FlowLedger.Api.Security;
using JasperFx.CommandLine;

namespace FlowLedger.Api.Commands;

public sealed class KeysInput : NetCoreInput
{
    [Description("add: create a new API key")]
    public string Action = "";

    [Description("The key's name, recorded as recordedBy on every event written with it")]
    public string Name = "";

    [Description("reader, writer or admin")]
    [FlagAlias("role")]
    public string RoleFlag = "reader";
}

[Description("Creates an API key: prints the key once, and the configuration entry holding only its SHA-256")]
public sealed class KeysCommand : JasperFxAsyncCommand<KeysInput>
{
    public override async Task<bool> Execute(KeysInput input)
    {
        if (input.Action != "add")
        {
            await Console.Error.WriteLineAsync($"Unknown action '{input.Action}': use `keys add <name> --role reader|writer|admin`.");
            return false;
        }
        if (!Enum.TryParse<Role>(input.RoleFlag, ignoreCase: true, out var role) || !Enum.IsDefined(role))
        {
            await Console.Error.WriteLineAsync($"Unknown role '{input.RoleFlag}': use reader, writer or admin.");
            return false;
        }
        if (string.IsNullOrWhiteSpace(input.Name) || input.Name.Length > 100 || input.Name.Any(char.IsControl))
        {
            await Console.Error.WriteLineAsync("The name must be 1 to 100 printable characters.");
            return false;
        }
        var (key, hash) = ApiKeyRing.Generate();
        var roleName = AccessControl.RoleName(role);
        Console.WriteLine($"API key '{input.Name}' ({roleName}). It is shown only now; the server keeps only its hash:");
        Console.WriteLine();
        Console.WriteLine($"  {key}");
        Console.WriteLine();
        Console.WriteLine($"Add this entry to {ApiKeyRing.Section} in appsettings.json:");
        Console.WriteLine($"  {JsonSerializer.Serialize(new { Name = input.Name, Role = roleName, Sha256 = hash })}");
        Console.WriteLine("or set these environment variables, with N the entry's index:");
        Console.WriteLine($"  FlowLedger__ApiKeys__N__Name={input.Name}");
        Console.WriteLine($"  FlowLedger__ApiKeys__N__Role={roleName}");
        Console.WriteLine($"  FlowLedger__ApiKeys__N__Sha256={hash}");
        Console.WriteLine();
        Console.WriteLine($"Clients send it as: Authorization: Bearer {key}");
        return true;
    }
}
