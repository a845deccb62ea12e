using FlowLedger.Domain;

namespace FlowLedger.Api.Ledger;

/// <summary>RFC 9457 answers for refused requests, with the statuses of SPEC §9.</summary>
public static class Problems
{
    public static int StatusOf(Refusal refusal) => refusal switch
    {
        Refusal.Malformed => StatusCodes.Status400BadRequest,
        Refusal.NotFound => StatusCodes.Status404NotFound,
        Refusal.Conflict => StatusCodes.Status409Conflict,
        _ => StatusCodes.Status422UnprocessableEntity,
    };

    /// <summary>One request's refusals: the status of the gravest kind, every reason listed.</summary>
    public static IResult For(IReadOnlyList<RuleBreak> breaks)
    {
        var gravest = breaks.Select(b => b.Kind).Min();
        return Problem(StatusOf(gravest), TitleOf(gravest), string.Join(" ", breaks.Select(b => b.Message)),
            new Dictionary<string, object?> { ["errors"] = breaks.Select(b => b.Message).ToArray() });
    }

    public static IResult Problem(int status, string title, string detail, IDictionary<string, object?>? extensions = null) =>
        Results.Problem(detail: detail, statusCode: status, title: title, extensions: extensions);

    /// <summary>For middleware that answers before any endpoint runs.</summary>
    public static Task WriteAsync(HttpContext context, int status, string detail)
    {
        context.Response.StatusCode = status;
        return context.RequestServices.GetRequiredService<IProblemDetailsService>()
            .WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = { Status = status, Detail = detail } }).AsTask();
    }

    public static IResult Malformed(string detail) =>
        Problem(StatusCodes.Status400BadRequest, TitleOf(Refusal.Malformed), detail);

    public static IResult NotFound(string detail) =>
        Problem(StatusCodes.Status404NotFound, TitleOf(Refusal.NotFound), detail);

    private static string TitleOf(Refusal refusal) => refusal switch
    {
        Refusal.Malformed => "The request is malformed",
        Refusal.NotFound => "Not found",
        Refusal.Conflict => "The request conflicts with what is recorded",
        _ => "The ledger's rules refuse this request",
    };
}
