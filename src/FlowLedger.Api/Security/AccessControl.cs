using System.Net;
using System.Security.Claims;
using FlowLedger.Api.Ledger;

namespace FlowLedger.Api.Security;

/// <summary>
/// Authenticates <c>Authorization: Bearer &lt;key&gt;</c> against the key ring and enforces
/// <see cref="AccessPolicy"/>: 401 without a valid key, 403 for a role too low. The key's name
/// becomes the user's name, which the write path records as recordedBy.
/// </summary>
public sealed class AccessControl(RequestDelegate next, ApiKeyRing keys)
{
    public const string AuthenticationType = "ApiKey";

    public async Task InvokeAsync(HttpContext context)
    {
        var required = AccessPolicy.Required(context.Request.Method, context.Request.Path, context.GetEndpoint() is not null);
        if (keys.IsOpen)
        {
            // OpenModeGuard refuses to start on other addresses; this also covers a proxy or a
            // binding that slipped past it.
            if (required != Access.Public && context.Connection.RemoteIpAddress is { } remote && !IPAddress.IsLoopback(remote))
            {
                await Problems.WriteAsync(context, StatusCodes.Status403Forbidden, "No API key is configured, so the ledger answers loopback clients only.");
                return;
            }
            await next(context);
            return;
        }

        var presented = BearerKey(context.Request);
        var key = presented is null ? null : keys.Find(presented);
        if (key is not null)
        {
            context.User = new ClaimsPrincipal(new ClaimsIdentity(
                [new Claim(ClaimTypes.Name, key.Name), new Claim(ClaimTypes.Role, RoleName(key.Role))], AuthenticationType));
        }
        if (required == Access.Public)
        {
            await next(context);
            return;
        }
        if (key is null)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await Problems.WriteAsync(context, StatusCodes.Status401Unauthorized, presented is null
                ? "An API key is required: send Authorization: Bearer <key>."
                : "The API key is not valid.");
            return;
        }
        if ((int)key.Role < (int)required)
        {
            await Problems.WriteAsync(context, StatusCodes.Status403Forbidden,
                $"The key '{key.Name}' has the role {RoleName(key.Role)}; this request needs {RoleName((Role)required)}.");
            return;
        }
        await next(context);
    }

    public static string RoleName(Role role) => role.ToString().ToLowerInvariant();

    private static string? BearerKey(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        return header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) && header.Length > scheme.Length
            ? header[scheme.Length..].Trim()
            : null;
    }
}
