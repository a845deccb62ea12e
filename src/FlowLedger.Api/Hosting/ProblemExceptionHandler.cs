using System.Text.Json;
using FlowLedger.Api.Ledger;
using Microsoft.AspNetCore.Diagnostics;
using Npgsql;

namespace FlowLedger.Api.Hosting;

/// <summary>
/// Turns what a client got wrong into a 4xx problem, whichever layer noticed it; a database that is
/// down or saturated into a 503 to retry; anything else is our fault and answers a 500 that shows no
/// stack trace or SQL.
/// </summary>
public sealed class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    /// <summary>The database could not be reached, ran out of connections, or ended the connection.</summary>
    private static bool IsDatabaseAway(Exception exception) =>
        exception.FindInner<NpgsqlException>() is { } failure && (failure.IsTransient || EndedByServer(failure));

    /// <summary>
    /// Waiting too long for a connection (the pool is exhausted) or for an answer says the database is busy, not that
    /// the pooled connections are dead: clearing the pools then would make every waiting request open a new
    /// connection (a backend to start, a password to check) exactly when the database has the least time for it.
    /// </summary>
    private static bool IsSaturated(Exception exception) => exception.FindInner<NpgsqlException>()?.InnerException is TimeoutException;

    /// <summary>SQLSTATE 57P01–57P03: the server shut down or restarted, and so ended every pooled connection.</summary>
    private static bool EndedByServer(NpgsqlException failure) => failure is PostgresException { SqlState: "57P01" or "57P02" or "57P03" };

    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken ct)
    {
        var (status, detail) = exception switch
        {
            MalformedRequestException malformed => (StatusCodes.Status400BadRequest, malformed.Message),
            UnsupportedContentTypeException unsupported => (StatusCodes.Status415UnsupportedMediaType, unsupported.Message),
            JsonException => (StatusCodes.Status400BadRequest, "The body is not valid JSON."),
            BadHttpRequestException bad => (bad.StatusCode, bad.Message),
            _ when IsDatabaseAway(exception) =>
                (StatusCodes.Status503ServiceUnavailable, "The database is unreachable or too busy to answer now; nothing was written. Retry shortly."),
            _ => (StatusCodes.Status500InternalServerError, "The server failed to answer; the error is logged."),
        };
        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            if (!IsSaturated(exception))
            {
                // After a restart the pooled connections are dead, and they fail in more ways than 57P01 (a broken
                // stream, a reset): drop them all at the first sign, not one failed request at a time.
                NpgsqlConnection.ClearAllPools();
            }
            // A restart or an overload passes: say when to come back, as a 429 does.
            context.Response.Headers.RetryAfter = "1";
        }
        if (status >= 500)
        {
            logger.LogError(exception, "Unhandled error on {Method} {Path}", context.Request.Method, context.Request.Path);
        }
        context.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails = { Status = status, Detail = detail },
        });
    }
}
