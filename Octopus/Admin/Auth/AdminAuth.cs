using Octopus.Configuration;
using Octopus.Domain;
using Octopus.Storage;

namespace Octopus.Admin.Auth;

/// <summary>Bearer-token check for admin routes, and the first-start bootstrap (token secret, `admin` user).</summary>
internal static class AdminAuth
{
    private const string UserItem = "octopus.admin.user";
    public const string SecretSetting = BackupStore.InternalSettingPrefix + "auth_secret";

    /// <summary>The signed-in admin (set by the filter).</summary>
    public static AdminUser User(HttpContext ctx) => (AdminUser)ctx.Items[UserItem]!;

    /// <summary>
    /// Requires a valid token whose version matches the user's. Unless <paramref name="allowPendingPasswordChange"/>,
    /// a user who must change the password gets 403 password_change_required.
    /// </summary>
    public static TBuilder RequireAdmin<TBuilder>(this TBuilder builder, bool allowPendingPasswordChange = false) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var header = http.Request.Headers.Authorization.ToString();
            if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return ApiResults.Unauthorized("missing bearer token");
            var tokens = http.RequestServices.GetRequiredService<TokenService>();
            if (tokens.Validate(header["Bearer ".Length..].Trim()) is not { } claims) return ApiResults.Unauthorized();
            var user = await http.RequestServices.GetRequiredService<AdminUserStore>().GetAsync(claims.UserId, http.RequestAborted);
            if (user is null || user.TokenVersion != claims.TokenVersion) return ApiResults.Unauthorized();
            if (user.MustChangePassword && !allowPendingPasswordChange)
                return ApiResults.Error(403, "password_change_required", "change the admin password first (POST /api/v1/auth/password)");
            http.Items[UserItem] = user;
            return await next(context);
        });

    /// <summary>Creates the token secret and the first admin when missing. Safe to run on every start.</summary>
    public static async Task BootstrapAsync(IServiceProvider services, CancellationToken ct)
    {
        var settings = services.GetRequiredService<SettingStore>();
        var all = await settings.GetAllAsync(ct);
        if (!all.TryGetValue(SecretSetting, out var secret) || !TryDecode(secret, out _))
        {
            var fresh = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
            // Two instances starting together must sign with the same secret: the first write wins, the other adopts it.
            if (secret is null) secret = await settings.SetIfAbsentAsync(SecretSetting, fresh, ct);
            else
            {
                // A broken stored secret is replaced.
                secret = fresh;
                await settings.SetAsync(new Dictionary<string, string> { [SecretSetting] = secret }, ct);
            }
        }
        TryDecode(secret!, out var bytes);
        services.GetRequiredService<TokenService>().SetSecret(bytes);

        var users = services.GetRequiredService<AdminUserStore>();
        if (await users.CountAsync(ct) == 0)
        {
            var config = services.GetRequiredService<OctopusConfig>();
            var fromConfig = !string.IsNullOrEmpty(config.AdminPassword);
            try
            {
                await users.CreateAsync(new AdminUser
                {
                    Username = "admin",
                    PasswordHash = PasswordHasher.Hash(fromConfig ? config.AdminPassword : "admin"),
                    MustChangePassword = !fromConfig,
                }, ct);
            }
            catch (DuplicateNameException)
            {
                // Another instance created it first.
            }
        }
    }

    private static bool TryDecode(string value, out byte[] bytes)
    {
        try
        {
            bytes = Convert.FromBase64String(value);
            return bytes.Length >= 32;
        }
        catch (FormatException)
        {
            bytes = [];
            return false;
        }
    }
}
