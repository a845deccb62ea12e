using FlowLedger.Api.Ledger;
using FlowLedger.Domain;
using Wolverine.Http;

namespace FlowLedger.Api.Recording;

/// <summary>A line of an NDJSON import that cannot be recorded, numbered from 1.</summary>
public sealed record ImportLineError(int Line, int Status, string Detail);

public abstract record ImportOutcome
{
    public sealed record Accepted(int Count) : ImportOutcome;

    public sealed record Rejected(IReadOnlyList<ImportLineError> Lines) : ImportOutcome;
}

/// <summary>
/// Imports NDJSON — one <c>{"type", "dealId"?, ...fields, "idempotencyKey"?}</c> a line — all or
/// nothing through the same write path as single commands. The HTTP endpoint, the `import` command
/// and the demo loader all call <see cref="ImportAsync"/>.
/// </summary>
public static class LedgerImport
{
    public static async Task<ImportOutcome> ImportAsync(
        TextReader ndjson, LedgerRecorder recorder, string recordedBy, CancellationToken ct, IProgress<int>? linesRead = null)
    {
        var entries = new List<PendingEntry>();
        var lineNumbers = new List<int>();
        var errors = new List<ImportLineError>();
        var lineNumber = 0;
        while (await ndjson.ReadLineAsync(ct) is { } line)
        {
            lineNumber++;
            if (lineNumber % 10_000 == 0)
            {
                linesRead?.Report(lineNumber);
            }
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            try
            {
                entries.Add(ParseLine(line));
                lineNumbers.Add(lineNumber);
            }
            catch (MalformedRequestException ex)
            {
                errors.Add(new ImportLineError(lineNumber, StatusCodes.Status400BadRequest, ex.Message));
            }
        }
        linesRead?.Report(lineNumber);
        if (errors.Count > 0)
        {
            return new ImportOutcome.Rejected(errors);
        }
        if (entries.Count == 0)
        {
            return new ImportOutcome.Rejected([new ImportLineError(0, StatusCodes.Status400BadRequest, "The import has no lines.")]);
        }

        return await recorder.RecordAsync(entries, recordedBy, ct) switch
        {
            RecordOutcome.Recorded recorded => new ImportOutcome.Accepted(recorded.Acknowledgements.Count),
            RecordOutcome.Refused refused => new ImportOutcome.Rejected(refused.Breaks
                .Select(b => new ImportLineError(lineNumbers[b.Index], Problems.StatusOf(b.Break.Kind), b.Break.Message))
                .ToList()),
            _ => throw new InvalidOperationException("Unknown outcome."),
        };
    }

    private static PendingEntry ParseLine(string line)
    {
        var fields = LedgerJson.ParseObject(line);
        var dealId = LedgerJson.TakeOptional<string>(fields, "dealId");
        var key = LedgerJson.TakeOptional<string>(fields, "idempotencyKey");
        var recorded = LedgerJson.ReadEvent(fields);
        if (recorded is CompanyRegistered && dealId is not null)
        {
            throw new MalformedRequestException("A CompanyRegistered line takes no dealId.");
        }
        if (recorded is IDealEvent && dealId is null)
        {
            throw new MalformedRequestException($"A {recorded.GetType().Name} line needs a dealId.");
        }
        return new PendingEntry(dealId, recorded, Idempotency: key is null ? null : IdempotencyClaim.For(key, "import", line));
    }
}

public static class ImportEndpoint
{
    [WolverinePost("/api/import", OperationId = "Import")]
    [Tags("Recording")]
    public static async Task<IResult> Post(HttpContext context, LedgerRecorder recorder, CancellationToken ct)
    {
        RequestContext.RequireContentType(context.Request, "application/x-ndjson", "application/jsonl", "application/json");
        using var reader = new StreamReader(context.Request.Body);
        var outcome = await LedgerImport.ImportAsync(reader, recorder, RequestContext.RecordedBy(context), ct);
        return outcome switch
        {
            ImportOutcome.Accepted accepted => Results.Ok(new { accepted = accepted.Count }),
            ImportOutcome.Rejected rejected => Problems.Problem(
                StatusCodes.Status422UnprocessableEntity,
                "The import was refused; nothing was recorded",
                $"{rejected.Lines.Count} line(s) cannot be recorded.",
                new Dictionary<string, object?> { ["lines"] = rejected.Lines }),
            _ => throw new InvalidOperationException("Unknown outcome."),
        };
    }
}
