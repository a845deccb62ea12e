using System.Diagnostics;
using FlowLedger.Api.Ledger;
using FlowLedger.Api.Recording;
using JasperFx.CommandLine;

namespace FlowLedger.Api.Commands;

public sealed class ImportInput : NetCoreInput
{
    [Description("The NDJSON file to import: one {\"type\", \"dealId\"?, ...fields} a line")]
    public string File = "";
}

[Description("Imports an NDJSON file, all or nothing, through the same path as POST /api/import")]
public sealed class ImportCommand : JasperFxAsyncCommand<ImportInput>
{
    public override async Task<bool> Execute(ImportInput input)
    {
        if (!System.IO.File.Exists(input.File))
        {
            await Console.Error.WriteLineAsync($"No file {input.File}.");
            return false;
        }
        using var host = input.BuildHost();
        var recorder = host.Services.GetRequiredService<LedgerRecorder>();
        await host.LedgerStoreAsync();
        var clock = Stopwatch.StartNew();
        using var reader = new StreamReader(input.File);
        var progress = new Progress<int>(lines => Console.Write($"\rread {lines:N0} lines ({clock.Elapsed.TotalSeconds:N1} s)"));

        var outcome = await LedgerImport.ImportAsync(reader, recorder, "import-command", CancellationToken.None, progress);
        Console.WriteLine();
        switch (outcome)
        {
            case ImportOutcome.Accepted accepted:
                Console.WriteLine($"Imported {accepted.Count:N0} events in {clock.Elapsed.TotalSeconds:N1} s.");
                return true;
            case ImportOutcome.Rejected rejected:
                await Console.Error.WriteLineAsync($"Nothing was imported: {rejected.Lines.Count} line(s) cannot be recorded.");
                foreach (var line in rejected.Lines.Take(50))
                {
                    await Console.Error.WriteLineAsync($"  line {line.Line} ({line.Status}): {line.Detail}");
                }
                return false;
            default:
                throw new InvalidOperationException("Unknown outcome.");
        }
    }
}
