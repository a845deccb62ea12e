using System.Security.Claims;
using Wolverine.Http;

namespace FlowLedger.Api.Security;

/// <summary>What the caller may do here: whether the server asks for keys, and the name and role of the key presented.</summary>
/// <param name="Role">The caller's role: the key's, <c>admin</c> in open mode, or null when a key is needed and none valid was sent.</param>
public sealed record AccessView(bool KeysRequired, string? KeyName, string? Role);

/// <summary>
/// GET /api/access — public, so that a client (the dashboard) learns it needs a key, and whether the
/// one it holds is valid, without first running into a 401.
/// </summary>
public static class GetAccessEndpoint
{
    [WolverineGet("/api/access", OperationId = "GetAccess")]
    [Tags("Access")]
    public static AccessView Get(ClaimsPrincipal user, ApiKeyRing keys) => keys.IsOpen
        ? new AccessView(KeysRequired: false, KeyName: null, AccessControl.RoleName(Role.Admin))
        : new AccessView(KeysRequired: true, user.Identity?.Name, user.FindFirstValue(ClaimTypes.Role));
}
