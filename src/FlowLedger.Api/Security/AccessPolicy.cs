namespace FlowLedger.Api.Security;

/// <summary>Who may call a request: anyone, or a key of at least some role.</summary>
public enum Access
{
    Public = 0,
    Reader = Role.Reader,
    Writer = Role.Writer,
    Admin = Role.Admin,
}

/// <summary>
/// The one place that says which requests need which role (SPEC §10). Decided by method and path,
/// so endpoints added later fall under a rule the day they land: anything mapped is closed unless
/// listed here as public.
/// </summary>
public static class AccessPolicy
{
    /// <summary>Paths anyone may read: the dashboard's page, health, what a key may do, and the API's own description.</summary>
    public static readonly IReadOnlyList<string> PublicPaths = ["/", "/health", "/api/access", "/openapi/v1.json"];

    public static readonly IReadOnlyList<string> PublicPrefixes = ["/docs/api"];

    /// <summary>Admin's own: webhooks (they send the ledger's data to any URL) and projection rebuilds.</summary>
    public static readonly IReadOnlyList<string> AdminPrefixes = ["/api/webhooks", "/api/projections"];

    /// <param name="endpointMatched">Whether routing found an endpoint; files and 404s outside /api have none.</param>
    public static Access Required(string method, PathString path, bool endpointMatched)
    {
        if (PublicPaths.Any(p => path.Equals(p, StringComparison.OrdinalIgnoreCase))
            || PublicPrefixes.Any(p => path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase)))
        {
            return Access.Public;
        }
        var isRead = HttpMethods.IsGet(method) || HttpMethods.IsHead(method);
        var isApi = path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase);
        if (!endpointMatched && isRead && !isApi)
        {
            // The dashboard's static files, or a 404: nothing of the ledger is behind them.
            return Access.Public;
        }
        if (AdminPrefixes.Any(p => path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase)) || IsReversal(method, path))
        {
            return Access.Admin;
        }
        return isRead ? Access.Reader : Access.Writer;
    }

    private static bool IsReversal(string method, PathString path) =>
        !HttpMethods.IsGet(method) && !HttpMethods.IsHead(method)
        && path.StartsWithSegments("/api/events", StringComparison.OrdinalIgnoreCase)
        && path.Value!.TrimEnd('/').EndsWith("/reversal", StringComparison.OrdinalIgnoreCase);
}
